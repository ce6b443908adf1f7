"""Every change to money, as named functions: the only writers of the ledger.

Each function is one transaction that writes the movement's ledger entries, moves the
stored sums they make (the gift's net, the project's total, the ledger's month) by
database arithmetic, saves the gift or use of funds with its audit entry, and sends the
signals listeners need. Listeners write only rows of their own (a receipt to send) in
that transaction, so they commit with the money; anything outside the database (sending
mail, emptying caches) runs after the commit.

A gift's figures are sums of its entries on three accounts (see ledger.models.Entry):
what it gives its project, the fee its donor covered, and what a dispute holds. The
functions here decide which entries a movement makes; ledger.figures reads them.

Callers lock what they change: webhook handlers lock the gift (select_for_update) and
call remember_locked_row(); the staff functions here lock it themselves.
"""

import contextvars
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, time

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from campaigns import services as matching
from campaigns.models import Match
from donations import signals
from donations.models import Gift, GiftMove, Project, money_writes
from donations.money import format_signed_money
from ledger.models import Entry, FundUse, GiftMonth, month_of
from podari import page_cache
from podari.db import insert_all_unless_exist

Kind, Account = Entry.Kind, Entry.Account

# The reconciliation run that is applying events or repairs, if any: its entries and
# audit entries say so (see ledger.reconciliation).
current_run = contextvars.ContextVar("current_reconciliation_run", default=None)


@dataclass(frozen=True)
class Origin:
    """Where a movement comes from: a Stripe event, a person, or a reconciliation run."""

    source: str
    event_id: str = ""
    livemode: bool | None = None
    user: object = None
    run: object = None
    note: str = ""
    # Makes the keys of a person's entries unique: they have no event id to key them by.
    token: str = field(default_factory=lambda: uuid.uuid4().hex)

    @classmethod
    def stripe(cls, event):
        run = current_run.get()
        return cls(
            source=Entry.Source.RECONCILIATION if run else Entry.Source.STRIPE,
            event_id=event.stripe_id,
            livemode=event.livemode,
            run=run,
        )

    @classmethod
    def staff(cls, user, note=""):
        return cls(source=Entry.Source.STAFF, user=user, note=note[:500])

    @classmethod
    def repair(cls, run, *, livemode, note=""):
        """A reconciliation run applying what Stripe says, with no event to apply."""
        return cls(source=Entry.Source.RECONCILIATION, livemode=livemode, run=run, note=note[:500])

    def key(self, *parts):
        """The unique key of one entry: a Stripe event keys its own entries, so delivering
        it again writes nothing twice; a person's change has a token of its own."""
        base = self.event_id or f"{self.source}:{self.token}"
        return ":".join([base, *(str(p) for p in parts if p != "")])


class WouldOverspend(Exception):
    """The change leaves a project with less than nothing available in a currency."""

    def __init__(self, project, currency, available_minor, change_minor):
        self.project, self.currency = project, currency
        self.available_minor, self.change_minor = available_minor, change_minor
        super().__init__(
            f"{project} has {format_signed_money(available_minor, currency)} available in "
            f"{currency.upper()}; this takes {format_signed_money(change_minor, currency)} more."
        )


@dataclass
class _Row:
    """One entry to write. Without a `key` of its own (an entry about one Stripe object,
    keyed by it), it is keyed by its origin, kind, account and `part`."""

    kind: str
    account: str
    amount_minor: int
    project_id: int
    key: str = ""
    part: str = ""


# Writing entries and the stored sums they move


def _new_entries(
    rows, origin, *, gift=None, fund_use=None, currency, occurred_at, stripe_object_id="", stated=None
):
    entries = [
        Entry(
            key=row.key or origin.key(row.kind, row.account, row.part),
            kind=row.kind,
            account=row.account,
            project_id=row.project_id,
            gift=gift,
            fund_use=fund_use,
            amount_minor=row.amount_minor,
            currency=currency,
            occurred_at=occurred_at,
            source=origin.source,
            stripe_event_id=origin.event_id,
            stripe_object_id=stripe_object_id[:255],
            stated_amount_minor=stated[0] if stated else None,
            stated_currency=stated[1] if stated else "",
            # A gift's entries are of its mode (none for offline money), whoever writes them.
            livemode=gift.livemode if gift is not None else None,
            recorded_by=origin.user,
            reconciliation_run=origin.run,
            note=origin.note,
        )
        for row in rows
        if row.amount_minor
    ]
    # One statement; an entry whose key is taken (an event applied before) is not written.
    return insert_all_unless_exist(entries, "key")


def _contribution(gift):
    """What a gift adds to the stored sums: ((project, currency, month, offline), net), or
    None when it adds nothing (nothing left, or a test payment on a live site)."""
    if gift.net_minor <= 0 or not gift.counts_in_this_mode:
        return None
    month = month_of(gift.paid_at or gift.created_at)
    return (gift.project_id, gift.currency, month, gift.is_offline), gift.net_minor


def _move_stored_sums(before, after):
    """Move the project totals and the ledger's month rows by the change in one gift's
    contribution, by arithmetic in the database under the rows' locks. Project rows are
    touched in id order so two moves between the same projects cannot deadlock."""
    if before == after:
        return
    if before and after and before[0][:2] == after[0][:2]:
        Project.objects.add_to_totals(before[0][0], before[0][1], after[1] - before[1], 0)
    else:
        changes = [(c[0][0], c[0][1], sign * c[1], sign) for c, sign in ((before, -1), (after, 1)) if c]
        for project_id, currency, net, count in sorted(changes):
            Project.objects.add_to_totals(project_id, currency, net, count)
    GiftMonth.objects.move(before, after)


def _post_gift(gift, rows, origin, *, before, occurred_at, stripe_object_id="", stated=None):
    """Write a gift's entries and save the gift with the net they leave on its project.

    `before` is the gift's contribution before the change (_contribution), taken while
    the gift was locked and before its fields changed. Returns the entries written.
    """
    written = _new_entries(
        rows,
        origin,
        gift=gift,
        currency=gift.currency,
        occurred_at=occurred_at,
        stripe_object_id=stripe_object_id,
        stated=stated,
    )
    for entry in written:
        if entry.account == Account.PROJECT:
            gift.net_minor += entry.amount_minor if entry.project_id == gift.project_id else 0
    gift.save_changes()
    _move_stored_sums(before, _contribution(gift))
    return written


def _post_new_gift(gift, rows, origin, *, stripe_object_id=""):
    """Insert a new gift with the net its first entries give it, then write them: their
    keys are the new gift's own, so none can be taken, and the gift's creation is one
    audit entry with its real values."""
    gift.net_minor = sum(row.amount_minor for row in rows if row.account == Account.PROJECT)
    gift.save()
    written = _new_entries(
        rows,
        origin,
        gift=gift,
        currency=gift.currency,
        occurred_at=gift.paid_at,
        stripe_object_id=stripe_object_id,
    )
    _move_stored_sums(None, _contribution(gift))
    return written


def _balances(gift):
    """{(kind, account): sum} of a gift's entries so far (one query)."""
    rows = gift.entries.values_list("kind", "account").annotate(total=Sum("amount_minor")).order_by()
    return {(kind, account): total for kind, account, total in rows}


def _sum(balances, kinds, account):
    return sum(total for (kind, acc), total in balances.items() if kind in kinds and acc == account)


def _account(balances, account):
    return sum(total for (_, acc), total in balances.items() if acc == account)


def _atomic():
    # No savepoint: nothing catches an error from here and carries on, so an error only
    # has to undo the caller's transaction (or this one, when there is none).
    return transaction.atomic(savepoint=False)


# Stripe payments


def record_payment(gift, *, amount_minor, currency, fee_covered_minor, paid_at, origin, stripe_object_id=""):
    """Stripe says the money arrived: the gift's share and the fee its donor covered.

    Stripe's amount and currency are trusted over the form's (and a difference is
    flagged). A gift already paid records nothing again; returns whether this did.
    `gift` is locked (or new, and saved here).
    """
    with _atomic(), money_writes():
        if gift.is_paid:
            if (amount_minor, currency) != (gift.amount_minor, gift.currency):
                gift.flag(f"A second payment report said {amount_minor} {currency}; the first is kept.")
            gift.save_changes()
            return False
        if gift.amount_minor and (amount_minor, currency) != (gift.amount_minor, gift.currency):
            gift.flag(
                f"Stripe reported {amount_minor} {currency}, the form asked for "
                f"{gift.amount_minor} {gift.currency}."
            )
        gift.amount_minor, gift.currency, gift.fee_covered_minor = amount_minor, currency, fee_covered_minor
        gift.paid_at = gift.paid_at or paid_at or timezone.now()
        gift.status = Gift.Status.SUCCEEDED

        # A gift is paid once: its payment is keyed by the gift, whichever event reports it.
        key = f"gift:{gift.public_id}"
        rows = [
            _Row(Kind.PAYMENT, Account.PROJECT, amount_minor, gift.project_id, key=f"{key}:payment"),
            _Row(Kind.COVERED_FEE, Account.FEE, fee_covered_minor, gift.project_id, key=f"{key}:fee"),
        ]
        if gift._state.adding:
            _post_new_gift(gift, rows, origin, stripe_object_id=stripe_object_id)
        else:
            before = _contribution(gift)
            _post_gift(
                gift, rows, origin, before=before, occurred_at=gift.paid_at, stripe_object_id=stripe_object_id
            )
        # Here, when Stripe says the money arrived, never at checkout: an abandoned
        # checkout must not hold a match's money.
        matching.allocate(gift, origin)
        signals.gift_paid.send(sender=Gift, gift=gift)
        return True


def record_refund(gift, *, refunded_total, currency, charge_amount=None, as_of, origin, charge_id=""):
    """Apply a charge's cumulative refunded amount, as Stripe stated it at `as_of` (Unix
    seconds): entries for what is newly refunded, the gift's share and the covered fee's
    share apart. Information older than what was applied changes nothing.

    Returns the entries written (empty when nothing changed). `gift` is locked and paid.
    """
    with _atomic(), money_writes():
        if charge_id:
            gift.stripe_charge_id = charge_id
        split = gift.split_charge_amount(refunded_total, currency, charge_amount=charge_amount)
        if split is None:
            gift.flag(
                f"A refund of {refunded_total} {currency} could not be converted to the gift's "
                f"{gift.currency}; not applied."
            )
            gift.save_changes()
            return []
        if gift.refunds_as_of is not None and as_of < gift.refunds_as_of:
            gift.save_changes()
            return []
        balances = _balances(gift)
        refunded_gift = -_sum(balances, Entry.REFUND_KINDS, Account.PROJECT) - _sum(
            balances, Entry.REFUND_KINDS, Account.HELD
        )
        refunded_fee = -_sum(balances, Entry.REFUND_KINDS, Account.FEE)
        target_gift = min(split[0], gift.amount_minor)
        target_fee = min(split[1], gift.fee_covered_minor)
        if gift.refunds_as_of == as_of and (target_gift, target_fee) < (refunded_gift, refunded_fee):
            # Same second: without an order, a larger refund is the later one, unless a
            # refund failed in that second (then the smaller figure is the newer one).
            failed = _sum(balances, (Kind.REFUND_REVERSAL,), Account.PROJECT) + _sum(
                balances, (Kind.REFUND_REVERSAL,), Account.FEE
            )
            if not failed:
                gift.save_changes()
                return []
        gift.refunds_as_of = max(as_of, gift.refunds_as_of or as_of)
        rows = _refund_rows(gift, balances, target_gift - refunded_gift, target_fee - refunded_fee)
        before = _contribution(gift)
        gift.status = _settled_status(gift, refunded_gift + (target_gift - refunded_gift))
        stated = (refunded_total, currency) if currency != gift.currency else None
        written = _post_gift(
            gift, rows, origin, before=before, occurred_at=_from_unix(as_of), stripe_object_id=charge_id,
            stated=stated,
        )  # fmt: skip
        _follow_matches(gift, written, origin, _from_unix(as_of))
        if any(entry.amount_minor < 0 for entry in written):
            signals.gift_refunded.send(sender=Gift, gift=gift, entries=written)
        return written


def _refund_rows(gift, balances, more_gift, more_fee):
    """Entries for `more_gift` and `more_fee` newly refunded (negative: given back).

    The gift's share comes out of what it gives its project; whatever a dispute holds
    cannot be given to the project too, so the rest of a refund larger than that comes
    out of the held money."""
    kind = Kind.REFUND if more_gift + more_fee >= 0 else Kind.REFUND_REVERSAL
    on_project = min(more_gift, max(gift.net_minor, 0)) if more_gift > 0 else more_gift
    return [
        _Row(kind, Account.PROJECT, -on_project, gift.project_id),
        _Row(kind, Account.HELD, -(more_gift - on_project), gift.project_id),
        _Row(kind, Account.FEE, -more_fee, gift.project_id),
    ]


def _settled_status(gift, refunded_gift):
    if refunded_gift >= gift.amount_minor:
        return Gift.Status.REFUNDED
    if refunded_gift > 0:
        return Gift.Status.PARTIALLY_REFUNDED
    return Gift.Status.SUCCEEDED


def record_failed_refund(gift, *, refund_id, amount, currency, as_of, origin):
    """A refund Stripe could not complete: its money is the gift's again, once per refund."""
    with _atomic(), money_writes():
        split = gift.split_charge_amount(amount, currency)
        if split is None:
            gift.flag(
                f"Refund {refund_id} failed, in a currency that could not be converted; check the total."
            )
            gift.save_changes()
            return []
        balances = _balances(gift)
        refunded_gift = -_sum(balances, Entry.REFUND_KINDS, Account.PROJECT) - _sum(
            balances, Entry.REFUND_KINDS, Account.HELD
        )
        refunded_fee = -_sum(balances, Entry.REFUND_KINDS, Account.FEE)
        back_gift, back_fee = min(split[0], refunded_gift), min(split[1], refunded_fee)
        rows = [
            _Row(Kind.REFUND_REVERSAL, account, amount, gift.project_id, key=f"{refund_id}:failed:{account}")
            for account, amount in ((Account.PROJECT, back_gift), (Account.FEE, back_fee))
        ]
        before = _contribution(gift)
        gift.refunds_as_of = max(as_of, gift.refunds_as_of or as_of)
        gift.status = _settled_status(gift, refunded_gift - back_gift)
        written = _post_gift(
            gift, rows, origin, before=before, occurred_at=_from_unix(as_of), stripe_object_id=refund_id
        )
        _follow_matches(gift, written, origin, _from_unix(as_of))
        return written


def _donor_share_kept(gift):
    """What of the gift's own amount (not the fee its donor covered) the donor still
    gives: less the gift's share of refunds, and of a chargeback once it is lost (an
    open dispute may still be won, so its held money still counts)."""
    balances = _balances(gift)
    refunded = -_sum(balances, Entry.REFUND_KINDS, Account.PROJECT) - _sum(
        balances, Entry.REFUND_KINDS, Account.HELD
    )
    lost = 0
    if gift.dispute_status == Gift.DisputeStatus.LOST:
        lost = -_sum(balances, (Kind.DISPUTE_HOLD,), Account.PROJECT)
    return max(gift.amount_minor - refunded - lost, 0)


def _follow_matches(gift, written, origin, occurred_at):
    """A match gives in proportion to what its donor gives: after the gift's money moved,
    its matches follow (see campaigns.services.follow_gift)."""
    if written and gift.amount_minor:
        matching.follow_gift(gift, _donor_share_kept(gift), origin, occurred_at)


# Disputes: the bank takes the money back while it decides.


def _held_by(gift, dispute_id):
    """{account: sum} of the entries of one dispute so far."""
    rows = (
        gift.entries.filter(stripe_object_id=dispute_id)
        .values_list("account")
        .annotate(total=Sum("amount_minor"))
        .order_by()
    )
    return defaultdict(int, rows)


def record_dispute_opened(gift, *, dispute_id, amount, currency, reason="", occurred_at, origin):
    """Hold the disputed share of the gift and of the covered fee until the bank decides."""
    with _atomic(), money_writes():
        closed = (Gift.DisputeStatus.WON, Gift.DisputeStatus.LOST)
        if gift.stripe_dispute_id == dispute_id and gift.dispute_status in closed:
            gift.save_changes()
            return []  # closed already: this is the older event
        gift.stripe_dispute_id = dispute_id
        gift.dispute_status = Gift.DisputeStatus.OPEN
        gift.flag(f"Disputed by the donor's bank ({reason or 'no reason given'}): dispute {dispute_id}.")
        return _hold(gift, dispute_id, amount, currency, occurred_at, origin)


def _hold(gift, dispute_id, amount, currency, occurred_at, origin):
    if _held_by(gift, dispute_id):
        gift.save_changes()
        return []  # held already
    split = gift.split_charge_amount(amount, currency)
    balances = _balances(gift)
    if split is None:
        # Hold back all that is left rather than guess: a person looks at it.
        gift.flag(f"Dispute {dispute_id} is in a currency that could not be converted; all of it is held.")
        split = (gift.amount_minor, gift.fee_covered_minor)
    hold_gift = min(split[0], max(gift.net_minor, 0))
    hold_fee = min(split[1], max(_account(balances, Account.FEE), 0))
    rows = [
        _Row(Kind.DISPUTE_HOLD, account, amount, gift.project_id, key=f"{dispute_id}:hold:{account}")
        for account, amount in (
            (Account.PROJECT, -hold_gift),
            (Account.FEE, -hold_fee),
            (Account.HELD, hold_gift + hold_fee),
        )
    ]
    stated = (amount, currency) if currency != gift.currency else None
    return _post_gift(
        gift, rows, origin, before=_contribution(gift), occurred_at=occurred_at, stripe_object_id=dispute_id,
        stated=stated,
    )  # fmt: skip


def record_dispute_closed(gift, *, dispute_id, won, amount, currency, occurred_at, origin):
    """Won: the held money is the project's (and the fee's) again. Lost: it is gone."""
    with _atomic(), money_writes():
        gift.stripe_dispute_id = dispute_id
        gift.dispute_status = Gift.DisputeStatus.WON if won else Gift.DisputeStatus.LOST
        written = [] if won else _hold(gift, dispute_id, amount, currency, occurred_at, origin)
        held = _held_by(gift, dispute_id)
        if not held.get(Account.HELD):
            gift.save_changes()
            return written
        # Won: each account gets back what it gave the held money. Lost: the held money goes.
        kind = Kind.DISPUTE_RELEASE if won else Kind.DISPUTE_LOSS
        accounts = (Account.HELD, Account.PROJECT, Account.FEE) if won else (Account.HELD,)
        rows = [
            _Row(kind, account, -held[account], gift.project_id, key=f"{dispute_id}:close:{account}")
            for account in accounts
        ]
        written += _post_gift(
            gift,
            rows,
            origin,
            before=_contribution(gift),
            occurred_at=occurred_at,
            stripe_object_id=dispute_id,
        )
        _follow_matches(gift, written, origin, occurred_at)
        return written


# Staff: moves between projects, offline gifts, uses of funds


def move_gift(gift, to_project, *, by, reason=""):
    """Credit a gift to another project, with a record of who moved it and why."""
    with _atomic(), money_writes():
        gift = Gift.objects.select_for_update().get(pk=gift.pk)
        gift.remember_locked_row()
        if gift.project_id == to_project.pk:
            return None
        move = GiftMove.objects.create(
            gift=gift, from_project_id=gift.project_id, to_project=to_project, moved_by=by, reason=reason
        )
        # The reason stays on the move (GiftMove), which staff can see and erasure can
        # reach: words typed about a donor never go into the append-only ledger.
        origin = Origin.staff(by, "Moved between projects")
        before = _contribution(gift)
        net, from_project = gift.net_minor, gift.project_id
        rows = [
            _Row(Kind.MOVE_OUT, Account.PROJECT, -net, from_project, key=f"move:{move.pk}:out"),
            _Row(Kind.MOVE_IN, Account.PROJECT, net, to_project.pk, key=f"move:{move.pk}:in"),
        ]
        gift.project = to_project
        gift.net_minor = 0
        written = _new_entries(rows, origin, gift=gift, currency=gift.currency, occurred_at=move.moved_at)
        gift.net_minor = sum(e.amount_minor for e in written if e.project_id == to_project.pk)
        if not written:
            gift.net_minor = net
        gift.save_changes()
        _move_stored_sums(before, _contribution(gift))
        # The sponsors' pledges go with the gift, so both projects' matched money stays right.
        matching.follow_move(gift, from_project, origin, move.moved_at, key=f"move:{move.pk}")
        return move


# Matches


def finish_match(match, *, origin, at):
    """Close a match (campaigns.services.finish): a challenge met or missed, its unused
    remainder returned to the sponsor or given to the general fund; entries dated `at`.
    Safe twice and from two workers at once: the second waits on the match's row lock,
    then finds it finished and writes nothing. Returns the entries written."""
    with _atomic():
        written = matching.finish(match, origin, at)
        # The status moves by update(), which sends no signal: the pages that say
        # "doubled" are told here, once the change is committed.
        page_cache.invalidate_pages_on_commit()
    return written


def finish_ended_matches(now=None):
    """Finish every match whose end has passed (the worker's task, ledger.tasks). Returns
    the ids of the matches looked at."""
    origin = Origin(source=Entry.Source.STAFF, note="Finished by the worker when the match ended")
    ended = list(Match.objects.ended_unfinished(now).order_by("ends_at", "pk"))
    for match in ended:
        # Dated at the match's end, not when the worker got to it: a match ending at
        # midnight on December 31 belongs to that year's statements.
        finish_match(match, origin=origin, at=match.ends_at)
    return [match.pk for match in ended]


def _available(project, currency):
    from ledger import figures

    return figures.available(project, currency)


def check_available(changes, allow_overspend=False):
    """Refuse a change that leaves a project with less than nothing in a currency, unless
    staff said to record it anyway. `changes`: {(project, currency): change in minor units}."""
    if allow_overspend:
        return
    for (project, currency), change in changes.items():
        if change >= 0:
            continue
        left = _available(project, currency)
        if left + change < 0:
            raise WouldOverspend(project, currency, left, -change)


def _noon(day):
    return timezone.make_aware(datetime.combine(day, time(12)))


def offline_gift_changes(old, new):
    """{(project, currency): change} of what correcting an offline gift takes and gives."""
    changes = defaultdict(int)
    if (old.amount_minor, old.currency, old.project_id) != (new.amount_minor, new.currency, new.project_id):
        changes[(old.project, old.currency)] -= old.net_minor
        changes[(new.project, new.currency)] += new.amount_minor
    return changes


def fund_use_changes(old, new):
    """{(project, currency): change} of what correcting a use of funds gives back and takes."""
    changes = defaultdict(int)
    if (old.amount_minor, old.currency, old.project_id) != (new.amount_minor, new.currency, new.project_id):
        changes[(old.project, old.currency)] += old.amount_minor
        changes[(new.project, new.currency)] -= new.amount_minor
    return changes


def record_offline_gift(gift, *, by, note="", fundraiser=None, settles_match=None):
    """A gift that did not come through Stripe (a bank transfer, a check, cash, an event's
    takings), received on gift.paid_at. Not tied to the Stripe key's mode: it counts on
    any site. `gift` is new, with its project, amount, currency and source set.

    `fundraiser`, when given, attributes the gift to a supporter's page of the same
    project (a check handed over at the birthday party): it then counts on the page too.

    `settles_match`: the gift is a sponsor paying its match's pledge to the project; the
    pledge is marked paid by as much, so the money counts once (docs/ledger.md)."""
    if fundraiser is not None:
        if fundraiser.project_id != gift.project_id:
            raise ValueError("A gift on a fundraiser page goes to the page's project.")
        gift.fundraiser = fundraiser
    with _atomic(), money_writes():
        gift.status = Gift.Status.SUCCEEDED
        gift.livemode = None
        gift.paid_at = gift.paid_at or timezone.now()
        gift.created_at = gift.paid_at
        rows = [_Row(Kind.OFFLINE_GIFT, Account.PROJECT, gift.amount_minor, gift.project_id)]
        origin = Origin.staff(by, note)
        written = _post_new_gift(gift, rows, origin)
        if settles_match is not None:
            written += matching.settle(settles_match, gift, origin)
        return written


def correct_offline_gift(gift, *, by, reason="", allow_overspend=False):
    """Staff corrected an offline gift (amount, currency, project, date received):
    entries take the old amount away and record the new one. `gift` holds the new values."""
    with _atomic(), money_writes():
        old = Gift.objects.select_for_update().get(pk=gift.pk)
        gift.remember_locked_row()
        gift._locked_row = old
        gift.net_minor = old.net_minor
        money = ("amount_minor", "currency", "project_id")
        if all(getattr(gift, name) == getattr(old, name) for name in money):
            before = _contribution(old)
            gift.save_changes()
            _move_stored_sums(before, _contribution(gift))  # the month may have changed
            return []
        taken, given = old.net_minor, gift.amount_minor
        check_available(offline_gift_changes(old, gift), allow_overspend)
        origin = Origin.staff(by, reason)
        before = _contribution(old)
        gift.net_minor = 0
        written = _new_entries(
            [_Row(Kind.OFFLINE_CORRECTION, Account.PROJECT, -taken, old.project_id, part="old")],
            origin, gift=gift, currency=old.currency, occurred_at=timezone.now(),
        )  # fmt: skip
        written += _new_entries(
            [_Row(Kind.OFFLINE_CORRECTION, Account.PROJECT, given, gift.project_id, part="new")],
            origin, gift=gift, currency=gift.currency, occurred_at=timezone.now(),
        )  # fmt: skip
        gift.net_minor = given
        gift.save_changes()
        _move_stored_sums(before, _contribution(gift))
        written += matching.follow_settling_gift(gift, origin)
        return written


def void_offline_gift(gift, *, by, reason, allow_overspend=False):
    """An offline gift recorded in error: its money is taken away by an entry, and the
    gift stays on record, void, with the reason."""
    with _atomic(), money_writes():
        gift = Gift.objects.select_for_update().get(pk=gift.pk)
        gift.remember_locked_row()
        if gift.status == Gift.Status.VOID:
            return []
        check_available({(gift.project, gift.currency): -gift.net_minor}, allow_overspend)
        before = _contribution(gift)
        rows = [_Row(Kind.OFFLINE_CORRECTION, Account.PROJECT, -gift.net_minor, gift.project_id, part="void")]
        gift.status = Gift.Status.VOID
        gift.flag(f"Voided: {reason}")
        gift.needs_review = False
        origin = Origin.staff(by, reason)
        written = _post_gift(gift, rows, origin, before=before, occurred_at=timezone.now())
        return written + matching.follow_settling_gift(gift, origin)


def _use_rows(project_id, amount_minor, kind, part):
    return [_Row(kind, Account.PROJECT, amount_minor, project_id, part=part)]


def record_fund_use(use, *, by, allow_overspend=False):
    """Money paid out of a project (`use` is new, its fields set): refused when more
    than the project has available in that currency, unless staff say to record it."""
    with _atomic(), money_writes():
        check_available({(use.project, use.currency): -use.amount_minor}, allow_overspend)
        use.recorded_by = use.recorded_by or by
        use.save()
        _new_entries(
            _use_rows(use.project_id, -use.amount_minor, Kind.FUND_USE, "paid"),
            Origin.staff(by),
            fund_use=use,
            currency=use.currency,
            occurred_at=_noon(use.spent_on),
        )
        return use


def correct_fund_use(use, *, by, reason="", allow_overspend=False):
    """Staff corrected a use of funds (amount, currency or project): entries give the old
    amount back and take the new one. `use` holds the new values."""
    with _atomic(), money_writes():
        old = FundUse.objects.select_for_update().get(pk=use.pk)
        use.save()
        if (old.amount_minor, old.currency, old.project_id) == (
            use.amount_minor,
            use.currency,
            use.project_id,
        ):
            return []
        check_available(fund_use_changes(old, use), allow_overspend)
        origin = Origin.staff(by, reason)
        now = timezone.now()
        written = _new_entries(
            _use_rows(old.project_id, old.amount_minor, Kind.FUND_USE_CORRECTION, "old"),
            origin, fund_use=use, currency=old.currency, occurred_at=now,
        )  # fmt: skip
        written += _new_entries(
            _use_rows(use.project_id, -use.amount_minor, Kind.FUND_USE_CORRECTION, "new"),
            origin, fund_use=use, currency=use.currency, occurred_at=now,
        )  # fmt: skip
        return written


def void_fund_use(use, *, by, reason, allow_overspend=False):
    """A use of funds recorded in error: its money is given back to the project by an
    entry, and the use stays on record, void, with the reason. (Giving money back never
    overspends; `allow_overspend` is taken for the admin's one void action.)"""
    with _atomic(), money_writes():
        use = FundUse.objects.select_for_update().get(pk=use.pk)
        if use.voided_at:
            return []
        use.voided_at, use.void_reason = timezone.now(), reason
        use.save(update_fields=["voided_at", "void_reason", "updated_at"])
        return _new_entries(
            _use_rows(use.project_id, use.amount_minor, Kind.FUND_USE_CORRECTION, "void"),
            Origin.staff(by, reason),
            fund_use=use,
            currency=use.currency,
            occurred_at=use.voided_at,
        )


def _from_unix(value):
    return datetime.fromtimestamp(value, tz=UTC) if isinstance(value, int) and value else timezone.now()
