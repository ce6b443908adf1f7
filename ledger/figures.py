"""Every money figure the site shows, read from the ledger in one place.

A project's raised is the sum of its gift entries on the project account (read from
the stored monthly sums, `GiftMonth`, which ledger.services keeps with the entries);
used is the sum of its use-of-funds entries; available is one minus the other. A gift's
figures (charged, covered fee, refunded, held, lost, given) are sums of its entries by
kind and account (`GiftMoney`). Each currency is summed on its own and never added to
another. The project page, its CSV and JSON, the story's highlighted figure, the home
page, the admin, the dashboard, receipts, refund emails, statements and the donor's own
page all read these functions, so no two of them can disagree.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import cached_property

from django.conf import settings
from django.db.models import Count, Max, Min, Q, Sum, Value
from django.db.models.functions import Coalesce, Lower, NullIf
from django.utils import timezone

from campaigns import services as matching
from campaigns.models import multiplied
from donations.models import Gift, RecurringGift
from donations.money import format_money, to_major
from ledger.models import Entry, FundUse, GiftMonth


@dataclass
class CurrencyFigures:
    """Raised, used and available in one currency (minor units); and, apart, what
    sponsors' matches added.

    `matched_minor` is what matches pledged for donors' gifts (net of returns);
    `match_paid_minor` the part the sponsors have paid in, as offline gifts, which is
    therefore in `raised_minor` too. So donors gave `raised - match_paid`, and the
    project's money given or promised is `donors + matched`: each dollar once."""

    currency: str
    raised_minor: int = 0
    used_minor: int = 0
    matched_minor: int = 0
    match_paid_minor: int = 0

    @property
    def donors_minor(self):
        return self.raised_minor - self.match_paid_minor

    @property
    def match_unpaid_minor(self):
        return self.matched_minor - self.match_paid_minor

    @property
    def donors(self):
        return format_money(self.donors_minor, self.currency)

    @property
    def matched(self):
        return format_money(self.matched_minor, self.currency)

    @property
    def available_minor(self):
        return self.raised_minor - self.used_minor

    @property
    def raised(self):
        return format_money(self.raised_minor, self.currency)

    @property
    def used(self):
        return format_money(self.used_minor, self.currency)

    @property
    def available(self):
        if self.available_minor < 0:
            return "−" + format_money(-self.available_minor, self.currency)
        return format_money(self.available_minor, self.currency)

    def as_json(self):
        return {
            "currency": self.currency,
            "raised": str(to_major(self.raised_minor, self.currency)),
            "used": str(to_major(self.used_minor, self.currency)),
            "available": str(to_major(self.available_minor, self.currency)),
            "raised_minor": self.raised_minor,
            "used_minor": self.used_minor,
            "available_minor": self.available_minor,
            "donors": str(to_major(self.donors_minor, self.currency)),
            "matched": str(to_major(self.matched_minor, self.currency)),
            "match_paid": str(to_major(self.match_paid_minor, self.currency)),
            "donors_minor": self.donors_minor,
            "matched_minor": self.matched_minor,
            "match_paid_minor": self.match_paid_minor,
        }


def _ordered(figures, first_currency=None):
    """The project's own currency first, then the others alphabetically."""
    return sorted(figures.values(), key=lambda f: (f.currency != first_currency, f.currency))


def _collect(raised_rows, used_rows, first_currency=None, matched_rows=()):
    figures = {}
    for currency, total in raised_rows:
        figures.setdefault(currency, CurrencyFigures(currency)).raised_minor += total or 0
    for currency, total in used_rows:
        figures.setdefault(currency, CurrencyFigures(currency)).used_minor += total or 0
    for currency, matched, paid in matched_rows:
        figures.setdefault(currency, CurrencyFigures(currency)).matched_minor += matched or 0
        figures[currency].match_paid_minor += paid or 0
    return _ordered(figures, first_currency)


def _matched():
    """The sum of matched money over match entries: pledged, net of returns, and moved
    with their gifts (so a project counts the pledges of the gifts it has now)."""
    return Coalesce(Sum("amount_minor", filter=Q(kind__in=Entry.MATCH_PLEDGED_KINDS)), 0)


def _matched_sums(entries):
    """Annotations of matched money over match entries: pledged (net of returns), and
    paid in by the sponsors (their settling offline gifts)."""
    return (
        entries.filter(account=Entry.Account.MATCH)
        .counting()
        .annotate(
            matched=_matched(),
            paid=Coalesce(-Sum("amount_minor", filter=Q(kind=Entry.Kind.MATCH_SETTLED)), 0),
        )
    )


@dataclass
class Line:
    """One line of a project's public ledger: a month's gifts, a use of funds, or a story."""

    # In this order within a day: money in, money out, then the story that reports it.
    KINDS = ("gifts", "offline_gifts", "match", "match_paid", "use_of_funds", "story")

    date: date
    kind: str
    amount_minor: int | None = None
    currency: str = ""
    description: str = ""
    stories: list = field(default_factory=list)
    gift_count: int = 0

    @property
    def amount(self):
        return "" if self.amount_minor is None else format_money(self.amount_minor, self.currency)

    @property
    def major_amount(self):
        return "" if self.amount_minor is None else str(to_major(self.amount_minor, self.currency))

    @property
    def story(self):
        return self.stories[0] if self.stories else None

    @property
    def sort_key(self):
        return (self.date, self.KINDS.index(self.kind))


def anonymous_groups(months):
    """Month rows merged so that each public line covers at least LEDGER_MIN_GIFTS_PER_LINE
    gifts, so that no line's amount is one donor's gift: a month with fewer joins the months
    after it, and a last group with too few joins the one before. Online and offline gifts
    have lines of their own, unless one of them has too few gifts in a currency: then they
    share lines. Each currency apart; the lines still add up to the figures on the page.
    (A currency with fewer gifts than that in all has one line, equal to its raised figure.)
    Returns (offline: True, False, or None for both, [months]) groups."""
    least = settings.LEDGER_MIN_GIFTS_PER_LINE
    by_currency = {}
    for month in months:
        by_currency.setdefault(month.currency, []).append(month)
    groups = []
    for rows in by_currency.values():
        counts = {kind: sum(m.gift_count for m in rows if m.offline == kind) for kind in (False, True)}
        if all(count == 0 or count >= least for count in counts.values()):
            for kind in (False, True):
                groups += [
                    (kind, group) for group in _at_least(least, [m for m in rows if m.offline == kind])
                ]
        else:
            groups += [(None, group) for group in _at_least(least, rows)]
    return groups


def _at_least(least, months):
    done, current = [], []
    for month in months:
        current.append(month)
        if sum(m.gift_count for m in current) >= least:
            done.append(current)
            current = []
    if current:
        if done:
            done[-1] = done[-1] + current
        else:
            done.append(current)
    return done


@dataclass(frozen=True)
class MilestoneState:
    milestone: object
    state: str  # "done", "funded" or ""


class ProjectLedger:
    """A project's money: figures per currency, and the timeline behind them.

    Three queries whatever the number of gifts, uses of funds and stories: the monthly
    gift sums, the uses of funds, and the published stories that report them, each run
    when first needed (a page whose ledger is in the fragment cache runs none). The
    project's own stories for the timeline are passed in by the caller.
    """

    def __init__(self, project, stories=()):
        self.project = project
        self._stories = stories

    @cached_property
    def months(self):
        months = GiftMonth.objects.with_gifts().filter(project=self.project)
        return list(months.order_by("month", "offline", "currency"))

    @cached_property
    def uses(self):
        return list(
            FundUse.objects.filter(project=self.project)
            .current()
            .with_paid_amounts()
            .with_public_stories()
            .order_by("spent_on", "pk")
        )

    @cached_property
    def stories(self):
        return list(self._stories)

    @cached_property
    def matches(self):
        """Per match and currency: the sponsor, what it matched here and what it paid in."""
        if getattr(self.project, "in_a_match", True) is False:
            return []
        per_match = Entry.objects.filter(project=self.project).values_list(
            "match_id", "match__sponsor_public_name", "currency"
        )
        return list(
            _matched_sums(per_match)
            .annotate(last=Max("occurred_at"))
            .order_by("match_id", "currency")
            .values_list("match__sponsor_public_name", "currency", "matched", "paid", "last")
        )

    @cached_property
    def figures(self):
        raised = [(m.currency, m.net_minor) for m in self.months]
        used = [(u.currency, u.paid_minor) for u in self.uses]
        matched = [(currency, matched, paid) for _, currency, matched, paid, _ in self.matches]
        return _collect(raised, used, self.project.currency, matched)

    def figures_for(self, currency):
        return next((f for f in self.figures if f.currency == currency), CurrencyFigures(currency))

    @cached_property
    def milestones(self):
        """The project's milestones, each with what the ledger says of it: "done" once the work
        is reported (its published story, or uses of funds paid out up to its amount),
        "funded" once the money raised reaches its amount, else "". Amounts are the
        project's totals in its own currency, as the milestones are."""
        figures = self.figures_for(self.project.currency)
        return [
            MilestoneState(
                milestone,
                "done"
                if (milestone.story is not None and milestone.story.is_public)
                or figures.used_minor >= milestone.amount_minor
                else "funded"
                if figures.raised_minor >= milestone.amount_minor
                else "",
            )
            for milestone in self.project.milestones.all()
        ]

    @cached_property
    def entries(self):
        """The money lines, oldest first: what the CSV and JSON ledgers hold."""
        lines = [self._gift_line(offline, group) for offline, group in anonymous_groups(self.months)]
        lines += [
            Line(
                date=u.spent_on,
                kind="use_of_funds",
                amount_minor=u.paid_minor,
                currency=u.currency,
                description=f"Paid for {u.purpose}" + (f" (to {u.recipient})" if u.recipient else ""),
                stories=u.public_stories,
            )
            for u in self.uses
        ]
        lines += self._match_lines()
        return sorted(lines, key=lambda e: e.sort_key)

    def _match_lines(self):
        """A line per match of what its sponsor pledged (named: a sponsor agrees to be),
        and one taking off what it has paid in, which the offline gifts' lines hold
        already: the lines add up to what donors gave plus what sponsors matched."""
        lines = []
        for sponsor, currency, matched, paid, last in self.matches:
            day = timezone.localtime(last).date()
            if matched:
                lines.append(Line(
                    date=day, kind="match", amount_minor=matched, currency=currency,
                    description=f"Matched by {sponsor}: the sponsor's gift for donors' gifts, net of returns",
                ))  # fmt: skip
            if paid:
                lines.append(Line(
                    date=day, kind="match_paid", amount_minor=-paid, currency=currency,
                    description=f"Paid in by {sponsor} for its match: already counted in offline gifts",
                ))  # fmt: skip
        return lines

    @staticmethod
    def _gift_line(offline, months):
        """One line for months of gifts merged so that it covers enough of them."""
        first, last = months[0], months[-1]
        count = sum(m.gift_count for m in months)
        when = f"in {last.month:%B %Y}" if first.month == last.month else (
            f"from {first.month:%B %Y} to {last.month:%B %Y}"
        )  # fmt: skip
        how = {
            True: "offline (bank transfers, checks, cash, event takings)",
            False: "online",
            None: "online and offline",
        }[offline]
        return Line(
            date=last.month,
            kind="offline_gifts" if offline else "gifts",
            amount_minor=sum(m.net_minor for m in months),
            currency=last.currency,
            description=f"{count} gift{'s' if count != 1 else ''} received {how} {when}, net of refunds",
            gift_count=count,
        )

    @cached_property
    def timeline(self):
        """The money lines and the project's stories, oldest first, for the project page."""
        stories = [
            Line(
                date=timezone.localtime(s.publish_at).date(),
                kind="story",
                description=s.title,
                stories=[s],
            )
            for s in self.stories
        ]
        return sorted(self.entries + stories, key=lambda e: e.sort_key)

    @cached_property
    def sentences(self):
        """One plain sentence per currency money was spent in, with the story to read."""
        sentences = []
        for figures in self.figures:
            uses = [u for u in self.uses if u.currency == figures.currency]
            if not uses:
                continue
            latest = uses[-1]
            if figures.raised_minor > 0:
                start = f"{figures.used} of the {figures.raised} given to this project"
            else:
                start = figures.used
            if len(uses) == 1:
                text = f"{start} paid for {latest.purpose}."
            else:
                text = f"{start} paid for {len(uses)} things so far, most recently {latest.purpose}."
            story = next(iter(latest.public_stories), None)
            sentences.append({"text": text, "story": story})
        if not sentences and self.figures:
            main = self.figures[0]
            if main.raised_minor > 0:
                sentences.append(
                    {
                        "text": f"None of the {main.raised} given to this project has been spent yet.",
                        "story": None,
                    }
                )
        return sentences

    def as_json(self, absolute_url):
        project = self.project
        return {
            "project": {
                "title": project.title,
                "slug": project.slug,
                "url": absolute_url(project.get_absolute_url()),
            },
            "totals": [f.as_json() for f in self.figures],
            "entries": [
                {
                    "date": e.date.isoformat(),
                    "kind": e.kind,
                    "amount": e.major_amount,
                    "amount_minor": e.amount_minor,
                    "currency": e.currency,
                    "description": e.description,
                    "story_url": absolute_url(e.story.get_absolute_url()) if e.story else "",
                }
                for e in self.entries
            ],
        }


def uses_reported_by(story):
    """The uses of funds a story reports, for its highlighted figure (one query)."""
    return list(
        story.fund_uses.current()
        .with_paid_amounts()
        .select_related("project")
        .only("currency", "purpose", "spent_on", "project__slug", "project__title")
        .order_by("spent_on", "pk")
    )


def site_figures():
    """Raised all time and paid out, per currency, across every project (two queries)."""
    raised = (
        GiftMonth.objects.with_gifts().values_list("currency").annotate(total=Sum("net_minor")).order_by()
    )
    used = Entry.objects.used().values_list("currency").annotate(total=-Sum("amount_minor")).order_by()
    return _collect(list(raised), list(used), settings.DEFAULT_CURRENCY)


def project_figures():
    """{project id: [CurrencyFigures]} for every project with money (three queries)."""
    by_project = {}
    for project_id, currency, total in (
        GiftMonth.objects.with_gifts()
        .values_list("project", "currency")
        .annotate(t=Sum("net_minor"))
        .order_by()
    ):
        by_project.setdefault(project_id, ([], [], []))[0].append((currency, total))
    for project_id, currency, total in (
        Entry.objects.used().values_list("project", "currency").annotate(t=-Sum("amount_minor")).order_by()
    ):
        by_project.setdefault(project_id, ([], [], []))[1].append((currency, total))
    for project_id, currency, matched, paid in _matched_sums(
        Entry.objects.values_list("project", "currency").order_by()
    ).values_list("project", "currency", "matched", "paid"):
        by_project.setdefault(project_id, ([], [], []))[2].append((currency, matched, paid))
    return {
        pid: _collect(raised, used, matched_rows=matched)
        for pid, (raised, used, matched) in by_project.items()
    }


def available(project, currency):
    """What a project has left to spend in one currency (two queries), for the overspend check."""
    raised = (
        GiftMonth.objects.filter(project=project, currency=currency).aggregate(t=Sum("net_minor"))["t"] or 0
    )
    used = -(
        Entry.objects.used().filter(project=project, currency=currency).aggregate(t=Sum("amount_minor"))["t"]
        or 0
    )
    return raised - used


def raised_by_period(today=None):
    """Raised this month, this year and all time, per currency (one query)."""
    today = today or timezone.localdate()
    month_start, year_start = today.replace(day=1), today.replace(month=1, day=1)
    rows = (
        GiftMonth.objects.values("currency")
        .annotate(
            this_month=Sum("net_minor", filter=Q(month=month_start)),
            this_year=Sum("net_minor", filter=Q(month__gte=year_start)),
            all_time=Sum("net_minor"),
        )
        .order_by("currency")
    )
    return [
        {
            "currency": row["currency"],
            "month": format_money(row["this_month"] or 0, row["currency"]),
            "year": format_money(row["this_year"] or 0, row["currency"]),
            "all_time": format_money(row["all_time"] or 0, row["currency"]),
        }
        for row in rows
    ]


def gifts_by_month(months=24, today=None):
    """{currency: [(month, net minor, gift count)]} for the last `months` months, gaps as 0 (one query)."""
    today = today or timezone.localdate()
    first = today.replace(day=1)
    for _ in range(months - 1):
        first = (first - timezone.timedelta(days=1)).replace(day=1)
    calendar = [first]
    while len(calendar) < months:
        last = calendar[-1]
        calendar.append(last.replace(year=last.year + last.month // 12, month=last.month % 12 + 1))
    found = {}
    rows = (
        GiftMonth.objects.filter(month__gte=first)
        .values_list("currency", "month")
        .annotate(net=Sum("net_minor"), n=Sum("gift_count"))
        .order_by()
    )
    for currency, month, net, n in rows:
        found.setdefault(currency, {})[month] = (net, n)
    return {
        currency: [(m, *by_month.get(m, (0, 0))) for m in calendar]
        for currency, by_month in sorted(found.items())
    }


def donor_counts(today=None):
    """Donors who gave this month and this year, new (first gift ever) or returning (one query).

    A donor is known by email: the linked Donor's, else the one on the gift. Gifts with
    neither (cash in a box) are not counted as donors.
    """
    today = today or timezone.localdate()
    tz = timezone.get_default_timezone()
    month_start = timezone.make_aware(datetime.combine(today.replace(day=1), time()), tz)
    year_start = timezone.make_aware(datetime.combine(today.replace(month=1, day=1), time()), tz)
    who = Lower(Coalesce(NullIf("donor__email", Value("")), NullIf("donor_email", Value(""))))
    per_donor = (
        Gift.objects.counted()
        .annotate(who=who, on=Coalesce("paid_at", "created_at"))
        .exclude(who=None)
        .values("who")
        .annotate(first=Min("on"), last=Max("on"))
        .order_by()
    )
    counts = per_donor.aggregate(
        month_new=Count("who", filter=Q(first__gte=month_start)),
        month_returning=Count("who", filter=Q(last__gte=month_start, first__lt=month_start)),
        year_new=Count("who", filter=Q(first__gte=year_start)),
        year_returning=Count("who", filter=Q(last__gte=year_start, first__lt=year_start)),
        all_time=Count("who"),
    )
    return counts


def monthly_recurring_revenue():
    """What running monthly gifts bring in each month, per currency (one query).

    Running is active or past due (Stripe is still retrying), as in the project admin's
    monthly recurring revenue (ProjectQuerySet.with_monthly_giving), so the two agree.
    """
    rows = (
        RecurringGift.objects.filter(
            status__in=RecurringGift.RUNNING_STATUSES, livemode=settings.STRIPE_LIVEMODE
        )
        .values_list("currency")
        .annotate(total=Sum("amount_minor"), n=Count("*"))
        .order_by("currency")
    )
    return [{"currency": c, "amount": format_money(total, c), "count": n} for c, total, n in rows]


# One gift's money, from its entries


@dataclass(frozen=True)
class GiftMoney:
    """A gift's figures, each a sum of its ledger entries (minor units of its currency).

    - charged: what the donor paid (the gift and the fee they covered), or an offline
      gift as received (and corrected);
    - refunded: what was given back (Stripe's refunded amount, net of failed refunds);
    - lost: what a lost chargeback took; held: what an open dispute holds;
    - net: what its project keeps; given: what the donor gave, net (charged less
      refunded and lost): the deductible amount of a statement.
    """

    currency: str
    gift_minor: int = 0
    covered_fee_minor: int = 0
    refunded_minor: int = 0
    refunded_fee_minor: int = 0
    held_minor: int = 0
    lost_minor: int = 0
    net_minor: int = 0
    given_minor: int = 0

    @classmethod
    def from_balances(cls, currency, balances):
        def total(kinds=None, account=None):
            return sum(
                amount
                for (kind, acc), amount in balances.items()
                if (kinds is None or kind in kinds) and (account is None or acc == account)
            )

        gift_kinds = (Entry.Kind.PAYMENT, Entry.Kind.OFFLINE_GIFT, Entry.Kind.OFFLINE_CORRECTION)
        return cls(
            currency=currency,
            gift_minor=total(gift_kinds),
            covered_fee_minor=total((Entry.Kind.COVERED_FEE,)),
            refunded_minor=-total(Entry.REFUND_KINDS),
            refunded_fee_minor=-total(Entry.REFUND_KINDS, Entry.Account.FEE),
            held_minor=total(account=Entry.Account.HELD),
            lost_minor=-total((Entry.Kind.DISPUTE_LOSS,)),
            net_minor=total(account=Entry.Account.PROJECT),
            given_minor=total(),
        )

    @property
    def charged_minor(self):
        return self.gift_minor + self.covered_fee_minor

    @property
    def is_fully_refunded(self):
        return self.charged_minor > 0 and self.refunded_minor >= self.charged_minor

    @property
    def is_void(self):
        """Nothing of the gift is left with the donor's charity: refunded, lost or voided."""
        return self.given_minor <= 0

    def money(self, name):
        return format_money(getattr(self, f"{name}_minor"), self.currency)

    # For templates, which cannot pass an argument.
    money_charged = property(lambda self: self.money("charged"))
    money_refunded = property(lambda self: self.money("refunded"))
    money_lost = property(lambda self: self.money("lost"))
    money_given = property(lambda self: self.money("given"))


@dataclass(frozen=True)
class ChallengeProgress:
    """How far donors are toward a challenge match's target: their counted gifts to its
    projects while it runs (campaigns.services.donors_gave, what finishing it decides by)."""

    currency: str
    given_minor: int
    target_minor: int

    @property
    def percent(self):
        return min(100, self.given_minor * 100 // self.target_minor) if self.target_minor else 0

    @property
    def met(self):
        return self.given_minor >= self.target_minor

    @property
    def text(self):
        """'$1,200 of the $5,000 target given by donors'."""
        given = format_money(self.given_minor, self.currency)
        return f"{given} of the {format_money(self.target_minor, self.currency)} target given by donors"


def challenge_progress(match):
    """A challenge match's progress toward its target, or None for a match without one."""
    if match.kind != match.Kind.CHALLENGE or not match.target_minor:
        return None
    return ChallengeProgress(match.currency, matching.donors_gave(match), match.target_minor)


@dataclass(frozen=True)
class GiftMatch:
    """What a sponsor's match added to a donor's gift: the sponsor's money, never the
    donor's (not in GiftMoney, not deductible by the donor)."""

    sponsor: str
    currency: str
    matched_minor: int
    # What the match's ratio asks for the gift; more than matched when the match had
    # less left (or a cap per gift or donor applied): matched in part.
    in_full_minor: int
    ratio: int = 1

    @property
    def matched(self):
        return format_money(self.matched_minor, self.currency)

    @property
    def multiplied(self):
        """'doubled', 'tripled': as the donate form said it (campaigns.models.MULTIPLIED)."""
        return multiplied(self.ratio)

    @property
    def in_part(self):
        return self.matched_minor < self.in_full_minor


def matches_of(gift):
    """The matches of a donor's gift, each with what it adds now (one query)."""
    rows = (
        Entry.objects.filter(matched_gift=gift, kind__in=Entry.MATCH_BALANCE_KINDS)
        .values_list("match__sponsor_public_name", "match__ratio", "match__per_gift_cap_minor", "currency")
        .annotate(total=Sum("amount_minor"))
        .order_by()
    )
    return [
        GiftMatch(
            sponsor,
            currency,
            total,
            min(gift.amount_minor * ratio, per_gift_cap or gift.amount_minor * ratio),
            ratio,
        )
        for sponsor, ratio, per_gift_cap, currency, total in rows
        if total > 0
    ]


def _balances_by_gift(gift_ids):
    rows = (
        Entry.objects.filter(gift_id__in=gift_ids)
        .values_list("gift_id", "kind", "account")
        .annotate(total=Sum("amount_minor"))
        .order_by()
    )
    balances = {}
    for gift_id, kind, account, total in rows:
        balances.setdefault(gift_id, {})[(kind, account)] = total
    return balances


def gift_money(gift):
    """One gift's figures (one query)."""
    return GiftMoney.from_balances(gift.currency, _balances_by_gift([gift.pk]).get(gift.pk, {}))


def with_money(gifts):
    """The gifts, each with its figures as `gift.money` (one query for them all)."""
    gifts = list(gifts)
    balances = _balances_by_gift([g.pk for g in gifts])
    for gift in gifts:
        gift.money = GiftMoney.from_balances(gift.currency, balances.get(gift.pk, {}))
    return gifts


def totals_of(gifts):
    """What a set of gifts (a filtered admin list) charged and kept, per currency, from
    their entries (one query): charged, refunded and what their projects keep."""
    rows = (
        Entry.objects.filter(gift__in=gifts.order_by().values("pk"))
        .values("currency")
        .annotate(
            charged=Coalesce(Sum("amount_minor", filter=Q(kind__in=Entry.CHARGED_KINDS)), 0),
            refunded=Coalesce(-Sum("amount_minor", filter=Q(kind__in=Entry.REFUND_KINDS)), 0),
            net=Coalesce(Sum("amount_minor", filter=Q(account=Entry.Account.PROJECT)), 0),
        )
        .order_by("currency")
    )
    return [
        {
            "currency": row["currency"].upper(),
            "gross": format_money(row["charged"], row["currency"]),
            "refunded": format_money(row["refunded"], row["currency"]),
            "net": format_money(row["net"], row["currency"]),
        }
        for row in rows
    ]


# A supporter's fundraiser page


@dataclass(frozen=True)
class FundraiserFigures:
    """A page's raised (what its gifts keep on its project, after refunds, disputes and
    moves) and how many of them count, in the project's currency."""

    currency: str
    goal_minor: int
    raised_minor: int = 0
    gift_count: int = 0
    # What sponsors' matches added to the page's gifts: the sponsors' money, counted on
    # the project apart from donors' and never in the page's raised.
    matched_minor: int = 0

    @property
    def raised(self):
        return format_money(self.raised_minor, self.currency)

    @property
    def matched(self):
        return format_money(self.matched_minor, self.currency)

    @property
    def goal(self):
        return format_money(self.goal_minor, self.currency)

    @property
    def progress_percent(self):
        """Whole percent of the page's goal, capped at 100 (as a project's)."""
        return min(100, max(0, self.raised_minor) * 100 // self.goal_minor) if self.goal_minor else 0


def fundraiser_figures(fundraiser):
    """One page's figures from its gifts' entries on the project's account (one query,
    however many gifts). Only entries on the page's own project count, so a gift moved to
    another project leaves the page, as it leaves the project; test payments never count
    on a live site, as in the project's total."""
    counted = Q(gift__livemode__isnull=True) | Q(gift__livemode=settings.STRIPE_LIVEMODE)
    row = (
        Entry.objects.filter(
            counted,
            gift__fundraiser=fundraiser,
            account=Entry.Account.PROJECT,
            project_id=fundraiser.project_id,
            currency=fundraiser.project.currency,
        )
        .order_by()
        .aggregate(
            raised=Coalesce(Sum("amount_minor"), 0),
            # A gift counts while it keeps money on its project, as in Project.gift_count.
            gifts=Count("gift", distinct=True, filter=Q(gift__net_minor__gt=0)),
        )
    )
    matched = (
        Entry.objects.filter(
            matched_gift__fundraiser=fundraiser,
            account=Entry.Account.MATCH,
            project_id=fundraiser.project_id,
            currency=fundraiser.project.currency,
        )
        .counting()
        .aggregate(matched=_matched())["matched"]
    )
    return FundraiserFigures(
        currency=fundraiser.project.currency,
        goal_minor=fundraiser.goal_minor,
        raised_minor=row["raised"],
        gift_count=row["gifts"],
        matched_minor=matched,
    )


def entries_total(entries):
    """What a set of one gift's entries moved, summed over every account (e.g. one
    refund, gift and covered fee together): what Stripe gave back or took."""
    return sum(entry.amount_minor for entry in entries)


def donors_who_gave(start, end):
    """Ids of donors with a gift received in [start, end) whose entries leave anything
    given, net (a subquery)."""
    gave = (
        Entry.objects.filter(gift__donor__isnull=False, gift__paid_at__gte=start, gift__paid_at__lt=end)
        .counting()
        .values("gift")
        .annotate(given=Sum("amount_minor"))
        .filter(given__gt=0)
        .values("gift__donor")
    )
    return gave


def sponsors_who_matched(start, end):
    """Ids of sponsors whose matches pledged in [start, end) (a subquery)."""
    return (
        Entry.objects.matched()
        .counting()
        .filter(occurred_at__gte=start, occurred_at__lt=end, match__sponsor__isnull=False)
        .values("match__sponsor")
    )


def year_bounds(year):
    """The start of `year` and of the next, in the site's time zone."""
    tz = timezone.get_default_timezone()
    return timezone.make_aware(datetime(year, 1, 1), tz), timezone.make_aware(datetime(year + 1, 1, 1), tz)


def _statement_gifts(donor, start=None, end=None):
    """A donor's gifts received in [start, end) that gave anything, net, with their money."""
    gifts = Gift.objects.filter(donor=donor, paid_at__isnull=False)
    if start is not None:
        gifts = gifts.filter(paid_at__gte=start, paid_at__lt=end)
    gifts = with_money(
        gifts.filter(Q(livemode__isnull=True) | Q(livemode=settings.STRIPE_LIVEMODE))
        .select_related("project")
        .order_by("paid_at", "pk")
    )
    return [gift for gift in gifts if gift.money.given_minor > 0]


def statement_years(donor):
    """The years (the site's time zone) a donor has a statement for, newest first."""
    return sorted({timezone.localtime(gift.paid_at).year for gift in _statement_gifts(donor)}, reverse=True)


def statement(donor, year):
    """A donor's gifts received in `year` (the site's time zone) that gave anything, with
    what each gave net (charged, less refunds and lost chargebacks): rows and totals per
    currency, for the year-end statement."""
    rows = _statement_gifts(donor, *year_bounds(year))
    totals = {}
    for gift in rows:
        totals[gift.currency] = totals.get(gift.currency, 0) + gift.money.given_minor
    return rows, [format_money(total, currency) for currency, total in sorted(totals.items())]


def sponsor_matches(donor, year):
    """A sponsor's matches of `year` (by when they pledged, the site's time zone): what
    each matched of donors' gifts, net of returns, and what the sponsor has paid in (its
    settling gifts, which the statement lists as its own gifts). One query."""
    start, end = year_bounds(year)
    rows = _matched_sums(
        Entry.objects.filter(match__sponsor=donor, occurred_at__gte=start, occurred_at__lt=end).values_list(
            "match__name", "currency"
        )
    ).order_by("match__name", "currency")
    return [
        {
            "match": name,
            "matched": format_money(matched, currency),
            "paid": format_money(paid, currency),
            "unpaid": format_money(matched - paid, currency),
        }
        for name, currency, matched, paid in rows.values_list("match__name", "currency", "matched", "paid")
    ]


def sponsor_match_totals(donor, year):
    """The total line under a sponsor's matches of `year`, per currency: matched, paid in
    and still to pay, summed as sponsor_matches sums each match. Shown even when nothing
    is paid in yet, when the statement's gifts have no total of their own. One query."""
    start, end = year_bounds(year)
    rows = _matched_sums(
        Entry.objects.filter(match__sponsor=donor, occurred_at__gte=start, occurred_at__lt=end).values_list(
            "currency"
        )
    ).order_by("currency")
    return [
        {
            "currency": currency,
            "matched": format_money(matched, currency),
            "paid": format_money(paid, currency),
            "unpaid": format_money(matched - paid, currency),
        }
        for currency, matched, paid in rows.values_list("currency", "matched", "paid")
    ]


def refund_notice(gift, entries):
    """What a refund email says: the amount Stripe gave back this time (the gift's and
    the covered fee's share together), what the donor paid, and what is left."""
    money = gift_money(gift)
    refunded_now = -entries_total(entries)
    return {
        "refunded": format_money(refunded_now, gift.currency),
        "refunded_minor": refunded_now,
        "charged": money.money("charged"),
        "refunded_total": money.money("refunded"),
        "whole": money.is_fully_refunded,
        "given": money.money("given"),
    }
