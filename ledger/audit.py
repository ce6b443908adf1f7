"""Recompute every stored money figure from the ledger's entries and list what differs.

Each stored sum is a cache of entries, written in the same transaction as they are:
- a gift's `net_minor`: the sum of its entries on its project's account (and nothing
  left on any other project's account, after a move);
- a project's `raised_minor` and `gift_count`: its counted gifts in its own currency;
- the ledger's monthly sums (`GiftMonth`): counted gifts by project, currency, month and
  whether they came offline;
- a use of funds' amount: what its entries took, or nothing once voided;
- a match's balance (`Match.matched_minor`): its pledges less returns, within its cap.
And each gift's accounts hold what they can: nothing below zero; nor can a match's
unpaid pledge to a project (what a sponsor's settling payments take off it).

`manage.py check_ledger` prints the differences; CI and `make bench` expect none.
"""

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Q, Sum

from donations.models import Gift, Project
from ledger.models import Entry, FundUse, GiftMonth, month_of

CHUNK = 5_000


@dataclass(frozen=True)
class Difference:
    what: str
    stored: object
    from_entries: object

    def __str__(self):
        return f"{self.what}: stored {self.stored}, from the entries {self.from_entries}"


def differences():
    """Every stored figure that is not what the entries make it (a list, empty if none)."""
    found = []
    found += _gift_nets()
    found += _gift_accounts()
    found += _project_totals()
    found += _months()
    found += _fund_uses()
    found += _matches()
    return found


def _gift_nets():
    """Stream gifts and their entries' sums per project, both in gift order."""
    sums = (
        Entry.objects.raised()
        .values_list("gift_id", "project_id")
        .annotate(total=Sum("amount_minor"))
        .order_by("gift_id", "project_id")
        .iterator(chunk_size=CHUNK)
    )
    by_gift = _grouped(sums)
    found = []
    pending = next(by_gift, None)
    for gift_id, project_id, net in (
        Gift.objects.values_list("pk", "project_id", "net_minor").order_by("pk").iterator(chunk_size=CHUNK)
    ):
        while pending is not None and pending[0] < gift_id:
            found.append(Difference(f"Entries of gift #{pending[0]}, which does not exist", None, pending[1]))
            pending = next(by_gift, None)
        totals = pending[1] if pending is not None and pending[0] == gift_id else {}
        if totals:
            pending = next(by_gift, None)
        if totals.get(project_id, 0) != net:
            found.append(Difference(f"Gift #{gift_id}: what it counts for", net, totals.get(project_id, 0)))
        for other, total in totals.items():
            if other != project_id and total:
                found.append(Difference(f"Gift #{gift_id}: left on project #{other} after a move", 0, total))
    return found


def _grouped(rows):
    current, totals = None, {}
    for gift_id, project_id, total in rows:
        if gift_id != current and current is not None:
            yield current, totals
            totals = {}
        current = gift_id
        totals[project_id] = total
    if current is not None:
        yield current, totals


def _gift_accounts():
    """No gift's covered fee or held money is below zero, and no donor gave less than nothing."""
    below = (
        Entry.objects.of_gifts()
        .values("gift_id")
        .annotate(
            fee=Sum("amount_minor", filter=Q(account=Entry.Account.FEE), default=0),
            held=Sum("amount_minor", filter=Q(account=Entry.Account.HELD), default=0),
            given=Sum("amount_minor"),
        )
        .filter(Q(fee__lt=0) | Q(held__lt=0) | Q(given__lt=0))
        .order_by("gift_id")
    )
    return [
        Difference(f"Gift #{row['gift_id']}: an account below zero", "≥ 0", row) for row in below.iterator()
    ]


def _project_totals():
    counted = Gift.objects.counted()
    found = []
    sums = {
        (row["project_id"], row["currency"]): (row["total"], row["n"])
        for row in counted.values("project_id", "currency").annotate(total=Sum("net_minor"), n=Count("*"))
    }
    for project in Project.objects.values("pk", "title", "currency", "raised_minor", "gift_count"):
        stored = (project["raised_minor"], project["gift_count"])
        expected = sums.get((project["pk"], project["currency"]), (0, 0))
        if stored != expected:
            found.append(Difference(f"Project “{project['title']}”: raised and gifts", stored, expected))
    # And the gifts' nets, summed, are the counted entries on the project account.
    from_entries = {
        (project_id, currency): total
        for project_id, currency, total in Entry.objects.raised()
        .counting()
        .values_list("project_id", "currency")
        .annotate(total=Sum("amount_minor"))
        .order_by()
    }
    for key, (total, _) in sums.items():
        if from_entries.get(key, 0) != total:
            found.append(
                Difference(f"Project #{key[0]} in {key[1]}: raised", total, from_entries.get(key, 0))
            )
    return found


def _months():
    expected = defaultdict(lambda: [0, 0])
    rows = Gift.objects.counted().values_list(
        "project_id", "currency", "paid_at", "created_at", "source", "net_minor"
    )
    for project_id, currency, paid_at, created_at, source, net in rows.iterator(chunk_size=CHUNK):
        key = (project_id, currency, month_of(paid_at or created_at), source != Gift.Source.STRIPE)
        expected[key][0] += net
        expected[key][1] += 1
    stored = {
        (m.project_id, m.currency, m.month, m.offline): [m.net_minor, m.gift_count]
        for m in GiftMonth.objects.with_gifts()
    }
    return [
        Difference(
            f"Month {key[2]:%Y-%m} of project #{key[0]} in {key[1]}{' (offline)' if key[3] else ''}",
            stored.get(key, [0, 0]),
            expected.get(key, [0, 0]),
        )  # fmt: skip
        for key in sorted(set(stored) | set(expected), key=str)
        if stored.get(key, [0, 0]) != expected.get(key, [0, 0])
    ]


def _fund_uses():
    found = []
    for use in FundUse.objects.with_paid_amounts().order_by("pk"):
        expected = 0 if use.voided_at else use.amount_minor
        if use.paid_minor != expected:
            found.append(Difference(f"Use of funds #{use.pk} ({use.purpose})", expected, use.paid_minor))
    return found


def _matches():
    from campaigns.models import Match

    found = []
    pledged = {
        match_id: total
        for match_id, total in Entry.objects.matched().values_list("match_id").annotate(t=Sum("amount_minor"))
    }
    for match in Match.objects.values("pk", "name", "matched_minor", "cap_minor", "currency"):
        expected = pledged.get(match["pk"], 0)
        if match["matched_minor"] != expected:
            found.append(
                Difference(f"Match “{match['name']}”: matched so far", match["matched_minor"], expected)
            )
        if not 0 <= expected <= match["cap_minor"]:
            found.append(Difference(f"Match “{match['name']}”: within its cap", match["cap_minor"], expected))
    unpaid_below_zero = (
        Entry.objects.filter(account=Entry.Account.MATCH)
        .values("match_id", "project_id", "currency")
        .annotate(unpaid=Sum("amount_minor"))
        .filter(unpaid__lt=0)
        .order_by("match_id", "project_id")
    )
    found += [
        Difference(f"Match #{row['match_id']} on project #{row['project_id']}: unpaid pledge", "≥ 0", row)
        for row in unpaid_below_zero
    ]
    return found
