"""Signals other parts of the site listen to (receipts, failed-payment emails).

Each is sent inside the transaction that records the change, under the row's
lock, so what a listener writes to the database (an email to send and the task
that sends it) commits with the money or is undone with it: no crash between
the two can leave a paid gift without its receipt. An error in a listener
undoes the whole change (a webhook then answers 500 and Stripe sends the event
again). A listener leaves anything outside the database, such as sending mail,
to ``transaction.on_commit``.
"""

from django.dispatch import Signal

# A gift has just become paid for the first time: a one-time gift or one
# monthly invoice (gift.recurring_gift is then set). Sent with sender=Gift,
# gift=<Gift>, by ledger.services.record_payment.
gift_paid = Signal()

# Stripe refunded (part of) a gift. Sent with sender=Gift, gift=<Gift>,
# entries=[the ledger entries of this refund], by ledger.services.record_refund.
gift_refunded = Signal()

# A monthly payment failed (invoice.payment_failed); the recurring gift is
# now past due. Sent with sender=RecurringGift, recurring_gift=<RecurringGift>.
payment_failed = Signal()

# A monthly gift has just ended (customer.subscription.deleted). Sent with
# sender=RecurringGift, recurring_gift=<RecurringGift>, once.
monthly_gift_cancelled = Signal()
