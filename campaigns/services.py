"""Matching donors' gifts: pledging a match's money, giving it back, settling it.

A match's money is the sponsor's gift, recorded as ledger entries on the `match`
account, each linked to the match and to the donor's gift that triggered it (never as
the donor's own entries: a donor's receipt, statement and figures read only those).
ledger.services calls these functions inside its own transactions, so a pledge commits
or rolls back with the payment, refund or dispute that moved it.

Every change locks the match's row (select_for_update) and moves its running balance
(`Match.matched_minor`) by database arithmetic, so gifts paid at the same moment queue
on the lock and never pledge more than the cap. Callers lock the gift first, then the
match: always in that order, so two changes cannot deadlock.
"""

from django.db.models import F, Q, Sum

from campaigns.models import Match
from donations.models import Gift, Project
from ledger.models import Entry
from podari.db import insert_all_unless_exist

Kind, Account = Entry.Kind, Entry.Account


def _entry(match, kind, amount_minor, *, project_id, key, origin, occurred_at, gift=None, livemode=None):
    return Entry(
        key=key,
        kind=kind,
        account=Account.MATCH,
        project_id=project_id,
        match=match,
        matched_gift=gift,
        amount_minor=amount_minor,
        currency=match.currency,
        occurred_at=occurred_at,
        source=origin.source,
        stripe_event_id=origin.event_id,
        livemode=livemode,
        recorded_by=origin.user,
        reconciliation_run=origin.run,
        note=origin.note,
    )


def _write(match, entries):
    """Write the entries whose keys are new, and move the match's balance by what its
    pledges and returns among them add up to. Returns the entries written."""
    written = insert_all_unless_exist([e for e in entries if e.amount_minor], "key")
    change = sum(e.amount_minor for e in written if e.kind in Entry.MATCH_BALANCE_KINDS)
    if change:
        Match.objects.filter(pk=match.pk).update(matched_minor=F("matched_minor") + change)
        match.matched_minor += change
    return written


def _is_renewal(gift):
    """A monthly gift's later month: another payment of the same monthly gift came first."""
    return (
        gift.recurring_gift_id is not None
        and Gift.objects.filter(recurring_gift_id=gift.recurring_gift_id, paid_at__isnull=False)
        .exclude(pk=gift.pk)
        .exists()
    )


def candidates(gift):
    """The matches that could match `gift`, in the order they are tried.

    The earliest-ending first: its money lapses soonest, so spending it first leaves the
    later match's balance for the gifts that arrive after the first one has ended, and
    the sponsors' promises go furthest. The time is when the donor paid (Stripe's time),
    so a webhook that arrives late does not lose the match.
    """
    matches = (
        Match.objects.running(gift.paid_at)
        .with_balance()
        .filter(projects=gift.project_id, currency=gift.currency, minimum_gift_minor__lte=gift.amount_minor)
    )
    if _is_renewal(gift):
        matches = matches.filter(matches_monthly_renewals=True)
    return matches.order_by("ends_at", "pk")


def _donor_matched(match, gift):
    """What the match has pledged so far for the donor of `gift` (by donor, else email)."""
    if gift.donor_id:
        who = {"matched_gift__donor_id": gift.donor_id}
    elif gift.donor_email:
        who = {"matched_gift__donor_email__iexact": gift.donor_email}
    else:
        return 0
    pledged = match.entries.filter(kind__in=Entry.MATCH_BALANCE_KINDS, **who).aggregate(t=Sum("amount_minor"))
    return pledged["t"] or 0


def _share(match, gift):
    """What `match` (locked) adds to `gift`: its ratio times the gift, within the caps."""
    wanted = gift.amount_minor * match.ratio
    if match.per_gift_cap_minor is not None:
        wanted = min(wanted, match.per_gift_cap_minor)
    if match.per_donor_cap_minor is not None:
        wanted = min(wanted, match.per_donor_cap_minor - _donor_matched(match, gift))
    return min(wanted, match.cap_minor - match.matched_minor)


def allocate(gift, origin):
    """Match a gift whose payment is being recorded (gift locked, paid, saved): by at most
    one match, in part when the match has less left than the gift asks. Returns the
    pledge entry written, or None."""
    if not gift.is_paid or gift.is_offline:
        return None
    if not gift.counts_in_this_mode:
        return None  # a test payment on a live site must not spend a sponsor's real money
    for match_id in candidates(gift).values_list("pk", flat=True):
        match = Match.objects.select_for_update().get(pk=match_id)
        amount = _share(match, gift)
        if amount <= 0:
            continue  # spent by the gifts that held the lock before this one
        pledge = _entry(
            match, Kind.MATCH_PLEDGE, amount, project_id=gift.project_id,
            key=f"match:{gift.public_id}:payment", origin=origin, occurred_at=gift.paid_at,
            gift=gift, livemode=gift.livemode,
        )  # fmt: skip
        written = _write(match, [pledge])
        return written[0] if written else None
    return None


def follow_gift(gift, kept_minor, origin, occurred_at):
    """After a refund, a failed refund or a dispute's end: each match of the gift pledges
    in proportion to what its donor still gives (`kept_minor` of gift.amount_minor).
    Less given returns the difference to the match's balance; a failed refund pledges it
    again, as far as the match has money left. Returns the entries written."""
    # Per match, over every project: a pledge moved with its gift (follow_move) is on the
    # gift's project now, and what changes is written there.
    pledges = (
        Entry.objects.filter(matched_gift=gift, account=Account.MATCH, kind__in=Entry.MATCH_PLEDGED_KINDS)
        .values_list("match_id")
        .annotate(
            first=Sum("amount_minor", filter=Q(kind=Kind.MATCH_PLEDGE, key__endswith=":payment")),
            now=Sum("amount_minor"),
        )
        .order_by("match_id")
    )
    project_id = gift.project_id
    written = []
    for match_id, first, now in pledges:
        # Rounded down: a part-refunded gift never keeps more match than its share.
        target = (first or 0) * min(kept_minor, gift.amount_minor) // gift.amount_minor
        if target == now:
            continue
        match = Match.objects.select_for_update().get(pk=match_id)
        if target > now and match.status == Match.Status.FINISHED:
            continue  # a finished match pledges nothing more (a missed challenge gave it all back)
        change = target - now if target < now else min(target - now, match.cap_minor - match.matched_minor)
        if not change:
            continue
        kind = Kind.MATCH_PLEDGE_RETURN if change < 0 else Kind.MATCH_PLEDGE
        written += _write(
            match,
            [_entry(
                match, kind, change, project_id=project_id,
                key=f"match:{gift.public_id}:{kind}:{origin.key()}", origin=origin,
                occurred_at=occurred_at, gift=gift, livemode=gift.livemode,
            )],
        )  # fmt: skip
    return written


def follow_move(gift, from_project_id, origin, occurred_at, key):
    """A gift moved to another project (ledger.services.move_gift, gift locked): its
    matches' pledges move with it, an entry out of the old project and one into the new,
    so each project counts the pledges of the gifts it has. What the sponsor has already
    paid in to the old project stays there (it is that project's money now): only the
    unpaid part moves. A match's balance does not change. Returns the entries written."""
    pledges = (
        Entry.objects.filter(
            matched_gift=gift,
            account=Account.MATCH,
            project_id=from_project_id,
            kind__in=Entry.MATCH_PLEDGED_KINDS,
        )
        .values_list("match_id")
        .annotate(now=Sum("amount_minor"))
        .filter(now__gt=0)
        .order_by("match_id")
    )
    written = []
    for match_id, now in pledges:
        match = Match.objects.select_for_update().get(pk=match_id)
        amount = min(now, outstanding(match, from_project_id))
        if amount <= 0:
            continue
        written += _write(
            match,
            [
                _entry(
                    match, kind, sign * amount, project_id=project_id,
                    key=f"{key}:match:{match_id}:{part}", origin=origin, occurred_at=occurred_at,
                    gift=gift, livemode=gift.livemode,
                )
                for kind, sign, project_id, part in (
                    (Kind.MOVE_OUT, -1, from_project_id, "out"),
                    (Kind.MOVE_IN, 1, gift.project_id, "in"),
                )
            ],
        )  # fmt: skip
    return written


def outstanding(match, project_id):
    """What the match has pledged to a project and the sponsor has not yet paid in."""
    total = match.entries.filter(project_id=project_id, account=Account.MATCH).aggregate(
        t=Sum("amount_minor")
    )
    return total["t"] or 0


def settle(match, gift, origin):
    """The sponsor paid its pledge (an offline gift, `gift`, being recorded by staff): the
    gift counts in the project's raised like any gift, so an entry takes as much off the
    match's unpaid pledge to that project. Whatever the sponsor paid beyond the pledge is
    a gift of its own. Returns the entries written."""
    match = Match.objects.select_for_update().get(pk=match.pk)
    if gift.currency != match.currency:
        raise ValueError(f"The match is in {match.currency.upper()}, the gift in {gift.currency.upper()}.")
    amount = min(gift.amount_minor, outstanding(match, gift.project_id))
    settled = _entry(
        match, Kind.MATCH_SETTLED, -amount, project_id=gift.project_id,
        key=f"match:{match.pk}:settled:{gift.public_id}", origin=origin, occurred_at=gift.paid_at,
        gift=gift,
    )  # fmt: skip
    return _write(match, [settled])


def follow_settling_gift(gift, origin):
    """A sponsor's settling gift was corrected or voided: what it settles follows what it
    now gives its project (nothing, once void), so the pledge counts as unpaid again
    rather than twice as paid. Returns the entries written."""
    settled = (
        Entry.objects.filter(matched_gift=gift, kind=Kind.MATCH_SETTLED)
        .values_list("match_id", "project_id")
        .annotate(total=Sum("amount_minor"))
        .order_by("match_id", "project_id")
    )
    written = []
    for match_id, project_id, now in settled:
        match = Match.objects.select_for_update().get(pk=match_id)
        unpaid_before_it = outstanding(match, project_id) - now
        gives = gift.net_minor if gift.project_id == project_id else 0
        change = -min(gives, unpaid_before_it) - now
        written += _write(
            match,
            [_entry(
                match, Kind.MATCH_SETTLED, change, project_id=project_id,
                key=f"match:{match.pk}:settled:{gift.public_id}:{origin.key()}", origin=origin,
                occurred_at=gift.paid_at, gift=gift,
            )],
        )  # fmt: skip
    return written


def donors_gave(match):
    """What donors' counted gifts to the match's projects, in its currency, paid while it
    ran, give now: the figure a challenge's target is measured by."""
    total = (
        Gift.objects.counted()
        .filter(
            project__in=match.projects.all(),
            currency=match.currency,
            paid_at__gte=match.starts_at,
            paid_at__lt=match.ends_at,
        )
        .exclude(source__in=[s for s in Gift.Source.values if s != Gift.Source.STRIPE])
        .aggregate(t=Sum("net_minor"))
    )
    return total["t"] or 0


def finish(match, origin, now):
    """Close a match. A challenge whose donors missed the target pledges nothing: every
    pledge returns. Otherwise an unused remainder is returned to the sponsor (nothing to
    write: it was never pledged) or pledged to the general fund, as the match says."""
    match = Match.objects.select_for_update().get(pk=match.pk)
    if match.status == Match.Status.FINISHED:
        return []
    written = []
    if match.kind == Match.Kind.CHALLENGE and donors_gave(match) < (match.target_minor or 0):
        rows = (
            match.entries.filter(account=Account.MATCH, kind__in=Entry.MATCH_PLEDGED_KINDS)
            .values_list("matched_gift", "project_id")
            .annotate(now=Sum("amount_minor"))
            .filter(now__gt=0)
            .order_by("matched_gift", "project_id")
        )
        written = _write(
            match,
            [
                _entry(
                    match,
                    Kind.MATCH_PLEDGE_RETURN,
                    -amount,
                    project_id=project_id,
                    key=f"match:{match.pk}:challenge_missed:{gift_id}:{project_id}",
                    origin=origin,
                    occurred_at=now,
                    gift=Gift(pk=gift_id) if gift_id else None,
                    livemode=_livemode(gift_id),
                )  # fmt: skip
                for gift_id, project_id, amount in rows
            ],
        )
    elif match.remainder == Match.Remainder.GENERAL_FUND and match.left_minor:
        fund = Project.general_fund()
        if fund is not None:
            written = _write(
                match,
                [_entry(
                    match, Kind.MATCH_PLEDGE, match.left_minor, project_id=fund.pk,
                    key=f"match:{match.pk}:remainder", origin=origin, occurred_at=now,
                )],
            )  # fmt: skip
    Match.objects.filter(pk=match.pk).update(status=Match.Status.FINISHED)
    return written


def _livemode(gift_id):
    return Gift.objects.filter(pk=gift_id).values_list("livemode", flat=True).first() if gift_id else None
