"""Signals other parts of the site listen to (receipts, failed-payment emails).

Each is sent from ``transaction.on_commit``, so a listener only ever sees
money that was actually recorded.
"""

from django.dispatch import Signal

# A gift has just become paid for the first time: a one-time gift or one
# monthly invoice (gift.recurring_gift is then set). Sent with sender=Gift,
# gift=<Gift>, from Gift.save(), so a gift staff record as paid (gift.source
# other than "stripe") sends it too.
gift_paid = Signal()

# A refund was applied to a gift. Sent with sender=Gift, gift=<Gift>.
gift_refunded = Signal()

# A monthly payment failed (invoice.payment_failed); the recurring gift is
# now past due. Sent with sender=RecurringGift, recurring_gift=<RecurringGift>.
payment_failed = Signal()
