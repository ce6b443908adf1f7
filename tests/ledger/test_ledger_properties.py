"""Random money histories, and every figure the site shows agreeing with what happened.

A Hypothesis state machine makes one-time and monthly gifts in USD, EUR and JPY, with and
without the covered fee, and delivers Stripe's signed events for them through the webhook:
payments, partial and full refunds (some arriving before their payment), refunds that
fail, disputes won and lost, events delivered twice and late. Staff move gifts, record,
correct and void offline gifts and uses of funds. A plain model in Python keeps what each
gift should count for; at the end of each history every view of the money must say what
the model says: the project page's stored total, the public ledger (its figures, JSON and
CSV), the dashboard, the gift list's totals, receipts, year-end statements and a recount,
and `check_ledger` finds no difference.

HYPOTHESIS_EXAMPLES=200 runs longer histories than CI's default.
"""

import copy
import csv
import io
import itertools
import json
import os
import secrets
import time
from dataclasses import dataclass, field

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    precondition,
    rule,
)

from donations.models import Donor, Gift, Project, RecurringGift, _share
from donations.money import format_money
from donors.emails import receipt_context
from ledger import figures, services
from ledger.audit import differences
from ledger.models import FundUse
from tests.conftest import load_stripe_fixture, sign

EXAMPLES = int(os.environ.get("HYPOTHESIS_EXAMPLES", "40"))
HISTORY = itertools.count(1)
CURRENCIES = ("usd", "eur", "jpy")


@dataclass
class Model:
    """What one gift should count for, worked out plainly."""

    gift_id: int
    currency: str
    amount: int
    fee: int
    project: str
    offline: bool = False
    paid: bool = False
    refunded: int = 0  # Stripe's cumulative refunded amount of the charge
    refunded_gift: int = 0
    refunded_fee: int = 0
    last_refund: int = 0  # the newest refund's own amount, while it may still fail
    early_refund: int = 0  # a refund delivered before its payment, waiting
    dispute: str = ""  # "", "open", "won", "lost"
    void: bool = False
    payment_intent: str = field(default_factory=lambda: f"pi_prop_{secrets.token_hex(8)}")

    @property
    def charge(self):
        return self.amount + self.fee

    def split(self, amount):
        in_ours = amount
        gift = _share(in_ours, self.amount, self.charge)
        return gift, in_ours - gift

    def refund_to(self, cumulative):
        self.refunded = cumulative
        self.refunded_gift, self.refunded_fee = self.split(cumulative)
        self.refunded_gift, self.refunded_fee = (
            min(self.refunded_gift, self.amount),
            min(self.refunded_fee, self.fee),
        )

    @property
    def net(self):
        if self.offline:
            return 0 if self.void else self.amount
        if not self.paid or self.dispute in ("open", "lost"):
            return 0
        return self.amount - self.refunded_gift

    @property
    def given(self):
        if self.offline:
            return self.net
        if not self.paid or self.dispute == "lost":
            return 0
        return self.charge - self.refunded_gift - self.refunded_fee


def signed_post(client, event):
    payload = json.dumps(event)
    return client.post(
        reverse("donations:stripe_webhook"),
        data=payload,
        content_type="application/json",
        headers={"Stripe-Signature": sign(payload)},
    )


class LedgerHistory(RuleBasedStateMachine):
    gifts = Bundle("gifts")
    offline_gifts = Bundle("offline_gifts")
    uses = Bundle("uses")

    def __init__(self):
        super().__init__()
        self.n = next(HISTORY)
        self.client = Client()
        self.clock = itertools.count(int(time.time()) - 100_000)
        self.sent = []
        self.models = {}
        self.used = {}
        self.user = None

    @initialize()
    def projects(self):
        from django.contrib.auth import get_user_model

        self.user, _ = get_user_model().objects.get_or_create(username="fiona", defaults={"is_staff": True})
        self.projects = {
            currency: Project.objects.create(
                title=f"History {self.n} {currency}",
                slug=f"history-{self.n}-{currency}",
                summary="s",
                description="d",
                currency=currency,
                goal_minor=None,
            )  # fmt: skip
            for currency in CURRENCIES
        }
        self.donor_email = f"donor{self.n}@example.com"

    # Stripe's events

    def deliver(self, event, *, keep=True):
        event = copy.deepcopy(event)
        response = signed_post(self.client, event)
        assert response.status_code == 200, response.content
        if keep:
            self.sent.append(event)

    def event(self, name, **fields):
        event = load_stripe_fixture(name)
        event["id"] = f"evt_prop_{secrets.token_hex(10)}"
        event["created"] = next(self.clock)
        event["data"]["object"].update(fields)
        return event

    def metadata(self, gift):
        return {
            "podari_site": "podari-life",
            "gift_public_id": str(gift.public_id),
            "project_id": str(gift.project_id),
        }

    @rule(
        target=gifts,
        project=st.sampled_from(CURRENCIES),
        own_currency=st.booleans(),
        amount=st.integers(min_value=100, max_value=200_000),
        fee=st.sampled_from([0, 0, 37, 320]),
    )
    def start_a_gift(self, project, own_currency, amount, fee):
        currency = project if own_currency else CURRENCIES[(CURRENCIES.index(project) + 1) % 3]
        gift = Gift.objects.create(
            project=self.projects[project], amount_minor=amount, currency=currency, fee_covered_minor=fee,
            donor_email=self.donor_email, stripe_checkout_session_id=f"cs_test_prop_{secrets.token_hex(12)}",
        )  # fmt: skip
        self.models[gift.pk] = Model(gift.pk, currency, amount, fee, project)
        return gift.pk

    def _charge_fields(self, model, gift):
        return {
            "amount": model.charge,
            "amount_captured": model.charge,
            "currency": model.currency,
            "payment_intent": model.payment_intent,
            "id": f"ch_{model.payment_intent}",
            "metadata": self.metadata(gift),
        }

    @rule(gift_id=gifts, twice=st.booleans())
    def pay(self, gift_id, twice):
        model = self.models[gift_id]
        if model.paid:
            return
        gift = Gift.objects.get(pk=gift_id)
        metadata = self.metadata(gift) | ({"fee_covered_minor": str(model.fee)} if model.fee else {})
        event = self.event(
            "checkout_session_completed",
            id=gift.stripe_checkout_session_id, client_reference_id=str(gift.public_id), metadata=metadata,
            amount_subtotal=model.charge, amount_total=model.charge, currency=model.currency,
            payment_intent=model.payment_intent, currency_conversion=None,
            customer_details={"email": self.donor_email, "name": "Prop Donor"},
        )  # fmt: skip
        self.deliver(event)
        if twice:
            self.deliver(event, keep=False)
        model.paid = True
        if model.early_refund:
            model.refund_to(model.early_refund)
            model.last_refund, model.early_refund = 0, 0

    @rule(gift_id=gifts, share=st.integers(min_value=1, max_value=100))
    def refund_before_its_payment(self, gift_id, share):
        model = self.models[gift_id]
        if model.paid or model.early_refund:
            return
        gift = Gift.objects.get(pk=gift_id)
        cumulative = max(1, model.charge * share // 100)
        self.deliver(
            self.event("charge_refunded", **self._charge_fields(model, gift), amount_refunded=cumulative)
        )
        model.early_refund = cumulative

    @rule(gift_id=gifts, share=st.integers(min_value=1, max_value=100))
    def refund(self, gift_id, share):
        model = self.models[gift_id]
        if not model.paid or model.dispute or model.refunded >= model.charge:
            return
        gift = Gift.objects.get(pk=gift_id)
        cumulative = model.refunded + max(1, (model.charge - model.refunded) * share // 100)
        self.deliver(
            self.event("charge_refunded", **self._charge_fields(model, gift), amount_refunded=cumulative)
        )
        model.last_refund = cumulative - model.refunded
        model.refund_to(cumulative)

    @rule(gift_id=gifts)
    def the_last_refund_fails(self, gift_id):
        model = self.models[gift_id]
        if not model.paid or not model.last_refund or model.dispute:
            return
        back_gift, back_fee = model.split(model.last_refund)
        self.deliver(
            self.event(
                "charge_refund_updated",
                id=f"re_prop_{secrets.token_hex(8)}",
                amount=model.last_refund,
                currency=model.currency,
                payment_intent=model.payment_intent,
                status="failed",
                charge=f"ch_{model.payment_intent}",
                metadata={},
            )  # fmt: skip
        )
        model.refunded -= model.last_refund
        model.refunded_gift -= min(back_gift, model.refunded_gift)
        model.refunded_fee -= min(back_fee, model.refunded_fee)
        model.last_refund = 0

    @rule(gift_id=gifts, outcome=st.sampled_from(["won", "lost"]), closed_twice=st.booleans())
    def dispute(self, gift_id, outcome, closed_twice):
        model = self.models[gift_id]
        if not model.paid or model.refunded or model.dispute:
            return
        dispute_id = f"dp_prop_{secrets.token_hex(8)}"
        fields = {"id": dispute_id, "amount": model.charge, "currency": model.currency, "metadata": {},
                  "payment_intent": model.payment_intent, "charge": f"ch_{model.payment_intent}"}  # fmt: skip
        self.deliver(self.event("charge_dispute_created", **fields))
        model.dispute = "open"
        closed = self.event("charge_dispute_closed", **fields, status=outcome)
        self.deliver(closed)
        if closed_twice:
            self.deliver(closed, keep=False)
        model.dispute = outcome
        model.last_refund = 0

    @rule(gift_id=gifts, to=st.sampled_from(CURRENCIES))
    def staff_move_a_gift(self, gift_id, to):
        model = self.models[gift_id]
        services.move_gift(
            Gift.objects.get(pk=gift_id), self.projects[to], by=self.user, reason="property test"
        )
        model.project = to

    @precondition(lambda self: self.sent)
    @rule(data=st.data())
    def stripe_delivers_an_event_again(self, data):
        self.deliver(data.draw(st.sampled_from(self.sent)), keep=False)

    # Monthly gifts: the first payment, then renewals, each a gift of its own.

    @rule(
        target=gifts,
        project=st.sampled_from(CURRENCIES),
        amount=st.integers(min_value=500, max_value=50_000),
        fee=st.sampled_from([0, 75]),
        renewals=st.integers(min_value=0, max_value=2),
        invoice_first=st.booleans(),
    )
    def a_monthly_gift(self, project, amount, fee, renewals, invoice_first):
        target = self.projects[project]
        gift = Gift.objects.create(
            project=target, amount_minor=amount, currency=project, fee_covered_minor=fee,
            donor_email=self.donor_email, stripe_checkout_session_id=f"cs_test_prop_{secrets.token_hex(12)}",
        )  # fmt: skip
        recurring = RecurringGift.begin(gift)
        subscription = f"sub_prop_{secrets.token_hex(8)}"
        metadata = {**self.metadata(gift), "recurring_gift_public_id": str(recurring.public_id),
                    "amount_minor": str(amount), "currency": project}  # fmt: skip
        if fee:
            metadata["fee_covered_minor"] = str(fee)
        checkout = self.event(
            "checkout_session_completed_subscription", id=gift.stripe_checkout_session_id,
            client_reference_id=str(gift.public_id), metadata=metadata, subscription=subscription,
            amount_subtotal=amount + fee, amount_total=amount + fee, currency=project,
        )  # fmt: skip
        invoices = []
        for month in range(renewals + 1):
            invoice = self.event(
                "invoice_paid", id=f"in_prop_{secrets.token_hex(8)}",
                billing_reason="subscription_create" if month == 0 else "subscription_cycle",
                amount_paid=amount + fee, amount_due=amount + fee, total=amount + fee, currency=project,
                customer_email=self.donor_email,
            )  # fmt: skip
            invoice["data"]["object"]["parent"]["subscription_details"] = {
                "subscription": subscription,
                "metadata": metadata,
            }
            invoices.append(invoice)
        order = [*invoices[:1], checkout, *invoices[1:]] if invoice_first else [checkout, *invoices]
        for event in order:
            self.deliver(event)
        for invoice in invoices:
            invoice_id = invoice["data"]["object"]["id"]
            paid = Gift.objects.get(stripe_invoice_id=invoice_id)
            model = Model(paid.pk, project, amount, fee, project, paid=True)
            # The charge names only its payment intent, which this ties to the month's gift.
            self.deliver(
                self.event(
                    "invoice_payment_paid",
                    invoice=invoice_id,
                    payment={"type": "payment_intent", "payment_intent": model.payment_intent},
                )  # fmt: skip
            )
            self.models[paid.pk] = model
        return gift.pk

    # Staff: offline gifts and uses of funds

    @rule(
        target=offline_gifts,
        project=st.sampled_from(CURRENCIES),
        amount=st.integers(min_value=1, max_value=10**7),
    )
    def record_an_offline_gift(self, project, amount):
        gift = Gift(
            project=self.projects[project], amount_minor=amount, currency=project, source=Gift.Source.CHEQUE,
            donor_email=self.donor_email, paid_at=timezone.now(),
        )  # fmt: skip
        services.record_offline_gift(gift, by=self.user)
        self.models[gift.pk] = Model(gift.pk, project, amount, 0, project, offline=True, paid=True)
        return gift.pk

    @rule(
        gift_id=offline_gifts,
        amount=st.integers(min_value=1, max_value=10**7),
        to=st.sampled_from(CURRENCIES),
    )
    def correct_an_offline_gift(self, gift_id, amount, to):
        model = self.models[gift_id]
        if model.void:
            return
        gift = Gift.objects.get(pk=gift_id)
        gift.amount_minor, gift.currency, gift.project = amount, to, self.projects[to]
        services.correct_offline_gift(gift, by=self.user, reason="recounted", allow_overspend=True)
        model.amount, model.currency, model.project = amount, to, to

    @rule(gift_id=consumes(offline_gifts))
    def void_an_offline_gift(self, gift_id):
        model = self.models[gift_id]
        services.void_offline_gift(
            Gift.objects.get(pk=gift_id), by=self.user, reason="twice", allow_overspend=True
        )
        model.void = True

    @rule(target=uses, project=st.sampled_from(CURRENCIES), amount=st.integers(min_value=1, max_value=10**6))
    def pay_for_something(self, project, amount):
        use = FundUse(project=self.projects[project], amount_minor=amount, currency=project, purpose="care")
        services.record_fund_use(use, by=self.user, allow_overspend=True)
        self.used[use.pk] = (project, amount)
        return use.pk

    @rule(use_id=uses, amount=st.integers(min_value=1, max_value=10**6))
    def correct_a_use(self, use_id, amount):
        if use_id not in self.used:
            return
        use = FundUse.objects.get(pk=use_id)
        use.amount_minor = amount
        services.correct_fund_use(use, by=self.user, reason="invoice", allow_overspend=True)
        self.used[use_id] = (self.used[use_id][0], amount)

    @rule(use_id=consumes(uses))
    def void_a_use(self, use_id):
        if use_id in self.used:
            services.void_fund_use(FundUse.objects.get(pk=use_id), by=self.user, reason="never paid")
            del self.used[use_id]

    # What every view must say

    def expected(self):
        raised, counts, used = {}, {}, {}
        for model in self.models.values():
            key = (model.project, model.currency)
            raised[key] = raised.get(key, 0) + model.net
            if model.net > 0 and model.currency == model.project:
                counts[model.project] = counts.get(model.project, 0) + 1
        for project, amount in self.used.values():
            used[(project, project)] = used.get((project, project), 0) + amount
        return raised, counts, used

    def every_view_agrees(self):
        if not hasattr(self, "projects"):
            return
        raised, counts, used = self.expected()
        for key, project in self.projects.items():
            project.refresh_from_db()
            want = {c: (raised.get((key, c), 0), used.get((key, c), 0)) for c in CURRENCIES}
            want = {c: v for c, v in want.items() if v != (0, 0)}
            # The project page's stored total and gift count.
            assert (project.raised_minor, project.gift_count) == (
                raised.get((key, key), 0),
                counts.get(key, 0),
            )
            # The public ledger's figures, its JSON and its CSV.
            ledger = figures.ProjectLedger(project)
            got = {
                f.currency: (f.raised_minor, f.used_minor)
                for f in ledger.figures
                if (f.raised_minor, f.used_minor) != (0, 0)
            }
            assert got == want
            data = json.loads(self.client.get(reverse("ledger:project_json", args=[project.slug])).content)
            assert {
                t["currency"]: (t["raised_minor"], t["used_minor"])
                for t in data["totals"]
                if (t["raised_minor"], t["used_minor"]) != (0, 0)
            } == want
            rows = list(
                csv.DictReader(
                    io.StringIO(
                        self.client.get(reverse("ledger:project_csv", args=[project.slug])).content.decode()
                    )
                )
            )
            gifts_csv = {}
            for row in rows:
                if row["kind"] in ("gifts", "offline_gifts"):
                    gifts_csv[row["currency"]] = gifts_csv.get(row["currency"], 0) + _minor(
                        row["amount"], row["currency"]
                    )
            assert {c: v for c, v in gifts_csv.items() if v} == {c: r for c, (r, _) in want.items() if r}
            # The dashboard's per-project figures.
            dashboard = {
                f.currency: (f.raised_minor, f.used_minor)
                for f in figures.project_figures().get(project.pk, [])
            }
            assert {c: v for c, v in dashboard.items() if v != (0, 0)} == want

    def teardown(self):
        if not hasattr(self, "projects"):
            return
        self.every_view_agrees()
        # The gift list's totals, receipts and the year-end statement.
        ours = Gift.objects.filter(project__in=self.projects.values())
        nets = {}
        for model in self.models.values():
            nets[model.currency] = nets.get(model.currency, 0) + model.net
        listed = {row["currency"].lower(): row["net"] for row in figures.totals_of(ours)}
        assert listed == {c: format_money(nets.get(c, 0), c) for c in listed}
        assert {c for c, v in nets.items() if v} <= set(listed)
        for model in self.models.values():
            gift = Gift.objects.get(pk=model.gift_id)
            money = figures.gift_money(gift)
            assert (money.net_minor, money.given_minor) == (model.net, model.given), model
            if gift.is_paid and not model.offline:
                assert receipt_context(gift)["given"] == format_money(model.given, model.currency)
        donor = Donor.objects.filter(email=self.donor_email).first()
        if donor is not None:
            year = timezone.localdate().year
            _, totals = figures.statement(donor, year)
            given = {}
            for model in self.models.values():
                gift = Gift.objects.get(pk=model.gift_id)
                if (
                    gift.donor_id == donor.pk
                    and gift.paid_at
                    and timezone.localtime(gift.paid_at).year == year
                ):
                    given[model.currency] = given.get(model.currency, 0) + model.given
            assert totals == [format_money(v, c) for c, v in sorted(given.items()) if v > 0]
        # A recount from the entries changes nothing, and check_ledger finds nothing to say.
        before = list(
            Project.objects.filter(pk__in=[p.pk for p in self.projects.values()]).values_list(
                "raised_minor", "gift_count"
            )
        )
        Project.objects.filter(pk__in=[p.pk for p in self.projects.values()]).recount_totals()
        after = list(
            Project.objects.filter(pk__in=[p.pk for p in self.projects.values()]).values_list(
                "raised_minor", "gift_count"
            )
        )
        assert before == after
        assert differences() == []


def _minor(major, currency):
    from donations.money import parse_major_amount

    sign = -1 if major.startswith("-") else 1
    return sign * parse_major_amount(major.lstrip("-"), currency)


@pytest.mark.django_db(transaction=True)
def test_random_histories_agree_everywhere(settings_fixture=None):
    LedgerHistory.TestCase.settings = settings(
        max_examples=EXAMPLES,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    LedgerHistory.TestCase().runTest()
