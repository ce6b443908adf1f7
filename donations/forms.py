from dataclasses import dataclass

from django import forms
from django.conf import settings

from donations.models import Donor, Gift, Project, RecurringGift
from donations.money import (
    MONTHLY_CADENCE,
    decimals_for,
    fee_fixed_minor,
    fee_to_cover,
    format_money,
    format_parts,
    format_percent_bp,
    format_with_cadence,
    gift_amounts,
    is_chargeable,
    parse_major_amount,
    to_major,
)
from podari.text import single_line

OTHER_AMOUNT = "other"
AMOUNT_CUSTOM_MAX_LENGTH = 20


# The words a donor reads before paying. They take amounts already written out, with their
# cadence ("$25.87 a month"), so that the page's script fills the very same sentences (it
# gets them with "{total}", "{fee}" and "{gift}" in place of the amounts).


def donate_button_text(total=None):
    return f"Donate {total}" if total else "Donate"


def fee_line_text(fee):
    return f"Add {fee} so all of your gift reaches the project"


def fee_rule_text(currency, *, monthly):
    """The fee line while no amount is known: the rule itself ("2.2% + $0.30")."""
    fixed = format_money(fee_fixed_minor(currency), currency)
    each = " each month" if monthly else ""
    return (
        f"Add the card fee ({format_percent_bp(settings.FEE_COVER_PERCENT_BP)}% + {fixed}){each} "
        "so all of your gift reaches the project"
    )


def summary_text(total, *, gift=None, fee=None):
    return f"Total: {total} ({gift} gift + {fee} card fee)" if fee else f"Total: {total}"


@dataclass(frozen=True)
class PaymentWords:
    """The button, the fee line and the summary for one state of the form, from one set of
    numbers: the total the button names is the one Checkout charges."""

    amount_minor: int | None  # None while the form holds no amount it could take
    currency: str
    monthly: bool
    cover_fee: bool

    @property
    def fee_minor(self):
        return fee_to_cover(self.amount_minor, self.currency) if self.amount_minor else 0

    @property
    def total_minor(self):
        return self.amount_minor + (self.fee_minor if self.cover_fee else 0)

    def _with_cadence(self, minor):
        return format_with_cadence(minor, self.currency, self.monthly)

    @property
    def button(self):
        return donate_button_text(self._with_cadence(self.total_minor) if self.amount_minor else None)

    @property
    def fee_line(self):
        if not self.amount_minor:
            return fee_rule_text(self.currency, monthly=self.monthly)
        return fee_line_text(self._with_cadence(self.fee_minor))

    @property
    def summary(self):
        if not self.amount_minor:
            return ""
        if not self.cover_fee:
            return summary_text(self._with_cadence(self.total_minor))
        return summary_text(
            self._with_cadence(self.total_minor),
            gift=format_money(self.amount_minor, self.currency),
            fee=format_money(self.fee_minor, self.currency),
        )


def script_words():
    """The same sentences for the page's script, with placeholders for the amounts."""
    return {
        "button": donate_button_text("{total}"),
        "button_unknown": donate_button_text(),
        "fee": fee_line_text("{fee}"),
        "summary": summary_text("{total}"),
        "summary_fee": summary_text("{total}", gift="{gift}", fee="{fee}"),
        "cadence": MONTHLY_CADENCE,
    }


def project_label(project, *, with_currency=False):
    label = "Where it is needed most" if project.is_general_fund else project.title
    if with_currency:
        label += f" (gifts in {gift_amounts(project.currency).name})"
    return label


def amount_help(amounts):
    # Without JavaScript both a preset and the box can be filled in; say which one counts.
    low, high = amounts.format(amounts.min_minor), amounts.format(amounts.max_minor)
    return f"Used only when “Other amount” is chosen. Gifts from {low} to {high}."


class DonateForm(forms.Form):
    """The donate page. Amounts come in as presets (minor units) or typed major units."""

    # One-time is preselected: nobody signs up for repeated charges without choosing to.
    frequency = forms.ChoiceField(
        label="How often",
        choices=[(Gift.Frequency.ONE_TIME, "One-time"), (Gift.Frequency.MONTHLY, "Monthly")],
        initial=Gift.Frequency.ONE_TIME,
        required=False,  # a form sent without it (an older page) gives once
        widget=forms.RadioSelect,
    )
    amount_preset = forms.ChoiceField(label="Amount", widget=forms.RadioSelect, required=False)
    amount_custom = forms.CharField(
        label="Other amount",
        required=False,
        max_length=AMOUNT_CUSTOM_MAX_LENGTH,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "transaction-amount"}),
    )
    project = forms.ModelChoiceField(
        label="Where should your gift go?",
        queryset=Project.objects.none(),
        to_field_name="slug",
        empty_label=None,
        error_messages={"invalid_choice": "Choose one of the projects in the list."},
    )
    donor_name = forms.CharField(
        label="Your name",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    donor_email = forms.EmailField(
        label="Email",
        required=False,
        max_length=254,
        help_text="For your receipt. Never shown on the site.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    show_name_publicly = forms.BooleanField(label="Show my name on the donor list", required=False)
    wants_impact_emails = forms.BooleanField(
        label="Email me stories about what my gift does",
        required=False,
        help_text="A few times a year. Unsubscribe from any of them.",
    )
    cover_fee = forms.BooleanField(required=False)
    dedication = forms.ChoiceField(
        label="Dedicate this gift",
        choices=Gift.Dedication.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    dedication_name = forms.CharField(
        label="Their name",
        required=False,
        max_length=200,
        help_text="Only if you chose “In honor of” or “In memory of”.",
    )
    dedication_notify_email = forms.EmailField(
        label="Tell their family by email",
        required=False,
        max_length=254,
        help_text="We email them once your gift arrives, with your message. We never write to them again.",
    )
    dedication_message = forms.CharField(
        label="Your message to them",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    dedication_shows_amount = forms.BooleanField(label="Tell them the amount of my gift", required=False)

    # A gift made on a supporter's fundraiser page (its slug): the page's project is the
    # gift's, and the donor chooses what the page's owner sees of it.
    fundraiser = forms.CharField(required=False, max_length=80, widget=forms.HiddenInput)
    owner_sees = forms.ChoiceField(
        label="What the page’s owner sees",
        choices=Gift.OwnerSees.choices,
        initial=Gift.OwnerSees.NAME_AND_AMOUNT,
        required=False,
        widget=forms.RadioSelect,
        help_text="They never see your email address.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fundraiser_page = self._fundraiser_page()
        # Milestones and amount meanings are read for the chosen project only, where the page
        # draws them (not at all when its markup comes from the cache).
        projects = list(Project.objects.accepting_gifts().order_by("-is_general_fund", "position", "title"))
        self.projects = projects
        self.fields["project"].queryset = Project.objects.accepting_gifts()
        # Without JavaScript the amounts only change after submitting: name the currency up front.
        several = len({p.currency.lower() for p in projects}) > 1
        self.fields["project"].choices = [
            (
                p.slug,
                project_label(p, with_currency=several and p.currency.lower() != settings.DEFAULT_CURRENCY),
            )
            for p in projects
        ]
        # A form asked for without a project offers the general fund, while it takes gifts.
        general_fund = next((p for p in projects if p.is_general_fund), None)
        if general_fund and not self.is_bound and not self.initial.get("project"):
            self.initial["project"] = general_fund.slug
        # Amounts are shown, and checked, in the currency of the project the donor has chosen.
        slug = self.data.get("project") if self.is_bound else self.initial.get("project")
        project = next((p for p in projects if p.slug == slug), projects[0] if projects else None)
        self.chosen_project = project
        # Monthly gifts have presets of their own: the form draws those of the frequency chosen
        # (?frequency=monthly, or as sent); with JavaScript the page swaps them as it changes.
        self.monthly = self._value("frequency") == Gift.Frequency.MONTHLY
        currency = project.currency if project else settings.DEFAULT_CURRENCY
        self.amounts = gift_amounts(currency, monthly=self.monthly)
        shown = self.data.get("currency", "").lower() if self.is_bound else ""
        self.currency_changed = bool(shown) and shown != self.amounts.currency
        if self.currency_changed:
            # The donor picked an amount in another currency (a project was switched without
            # JavaScript): ask again rather than charge, say, ¥5,000 for a "$50" button.
            self.data = self.data.copy()
            self.data.pop("amount_preset", None)
        presets = set(self.amounts.presets)
        # Without JavaScript a donor may switch the frequency after choosing an amount drawn
        # for the other one: it was on their page, so it is taken (and drawn again, chosen).
        sent = str(self.data.get("amount_preset", "")) if self.is_bound else ""
        if sent.isdigit() and int(sent) in gift_amounts(currency, monthly=not self.monthly).presets:
            presets.add(int(sent))
        self.preset_values = [str(minor) for minor in sorted(presets)]
        self.fields["amount_preset"].choices = [
            (str(minor), self.amounts.format(minor)) for minor in sorted(presets)
        ] + [(OTHER_AMOUNT, "Other amount")]
        self.fields["amount_custom"].help_text = amount_help(self.amounts)
        asked = self.initial.pop("amount_minor", None)
        if asked is not None and not self.is_bound:
            # An amount a link asks for: its preset, or typed in "Other amount".
            if str(asked) in self.preset_values:
                self.initial["amount_preset"] = str(asked)
            elif self.amounts.min_minor <= asked <= self.amounts.max_minor:
                self.initial["amount_preset"] = OTHER_AMOUNT
                typed = str(to_major(asked, self.amounts.currency))
                # "40", as a donor would type it, not "40.00".
                self.initial["amount_custom"] = typed.rstrip("0").rstrip(".") if "." in typed else typed
        self.initial.setdefault("amount_preset", str(self.amounts.default_preset))
        # Drawn for the form as it stands; the page's script keeps them in step as it changes.
        self.payment = self._payment_words()
        self.fields["cover_fee"].label = self.payment.fee_line

    def _fundraiser_page(self):
        """The page the gift is made on, if any; its project becomes the form's project."""
        from fundraisers.models import Fundraiser

        slug = (self.data.get("fundraiser") if self.is_bound else self.initial.get("fundraiser")) or ""
        if not slug:
            return None
        page = Fundraiser.objects.select_related("project").filter(slug=slug[:80]).first()
        if page is not None:
            if self.is_bound:
                self.data = self.data.copy()
                self.data["project"] = page.project.slug
            else:
                self.initial["project"] = page.project.slug
        return page

    def _payment_words(self):
        """What the donor pays as the form stands (as first drawn, or as sent back with a
        mistake): the amount the chosen radio decides, as clean() takes it."""
        amounts = self.amounts
        choice = self._value("amount_preset")
        typed = str(self._value("amount_custom") or "").strip()
        amount = None
        if (choice == OTHER_AMOUNT or (not choice and typed)) and len(typed) <= AMOUNT_CUSTOM_MAX_LENGTH:
            try:
                amount = parse_major_amount(typed, amounts.currency)
            except (ValueError, ArithmeticError):  # not an amount, or too many digits to be one
                amount = None
        elif choice in self.preset_values:
            amount = int(choice)
        # Only an amount the form would take is named; anything else shows the fee's rule.
        if amount is not None and not (
            amounts.min_minor <= amount <= amounts.max_minor and is_chargeable(amount, amounts.currency)
        ):
            amount = None
        return PaymentWords(
            amount_minor=amount,
            currency=amounts.currency,
            monthly=self.monthly,
            cover_fee=bool(self._value("cover_fee")),
        )

    def _value(self, name):
        """A field's value as sent, or as first offered; unlike self[name].value(), this
        draws no bound field, whose label would be fixed before the fee line is known."""
        field = self.fields[name]
        if self.is_bound:
            return field.widget.value_from_datadict(self.data, self.files, self.add_prefix(name))
        return self.get_initial_for_field(field, name)

    def amount_meanings(self):
        """What each preset amount does for the chosen project, in the order of the presets."""
        if self.chosen_project is None:
            return []
        sentences = {m.amount_minor: m.sentence for m in self.chosen_project.amount_meanings.all()}
        return [
            (str(minor), self.amounts.format(minor), sentences[minor])
            for minor in self.amounts.presets
            if minor in sentences
        ]

    def currency_options(self):
        """For the page's scripts: each currency's amounts, how its amounts are written and
        its fee, and the sentences that name what the donor pays."""
        options = {}
        for project in self.projects:
            amounts = gift_amounts(project.currency)
            monthly_amounts = gift_amounts(project.currency, monthly=True)
            currency = amounts.currency
            options.setdefault(
                currency,
                {
                    "currency": currency,
                    "decimals": decimals_for(currency),
                    "symbol": amounts.symbol,
                    "name": amounts.name,
                    "presets": [[str(m), amounts.format(m)] for m in amounts.presets],
                    "default": str(amounts.default_preset),
                    "presets_monthly": [[str(m), amounts.format(m)] for m in monthly_amounts.presets],
                    "default_monthly": str(monthly_amounts.default_preset),
                    "help": amount_help(amounts),
                    "min": amounts.min_minor,
                    "max": amounts.max_minor,
                    "format": format_parts(currency),
                    "fee_fixed": fee_fixed_minor(currency),
                    "fee_rule": [fee_rule_text(currency, monthly=monthly) for monthly in (False, True)],
                },
            )
        return {
            "projects": {p.slug: p.currency.lower() for p in self.projects},
            "currencies": options,
            "fee_percent_bp": settings.FEE_COVER_PERCENT_BP,
            "words": script_words(),
        }

    def clean_donor_name(self):
        # One line: a name is shown on a wall and printed on receipts (see podari/text.py).
        return single_line(self.cleaned_data["donor_name"])

    def clean_dedication_name(self):
        return single_line(self.cleaned_data["dedication_name"])

    def clean(self):
        cleaned = super().clean()
        project = cleaned.get("project")
        amounts = gift_amounts(project.currency) if project else self.amounts
        currency = amounts.currency
        choice = cleaned.get("amount_preset")
        typed = (cleaned.get("amount_custom") or "").strip()
        # The chosen radio decides. A typed amount counts only with "Other amount" chosen (or
        # with nothing chosen at all), so the amount highlighted is the amount charged.
        use_typed = choice == OTHER_AMOUNT or (not choice and typed)

        amount_minor = None
        if self.currency_changed:
            self.add_error(
                "amount_preset",
                f"Gifts to {project or 'this project'} are in {amounts.name}. Choose the amount again.",
            )
        elif use_typed:
            try:
                amount_minor = parse_major_amount(typed, currency)
            except ValueError as exc:
                self.add_error("amount_custom", str(exc))
        elif choice:
            amount_minor = int(choice)
        elif "amount_preset" not in self.errors:
            self.add_error("amount_preset", "Choose an amount, or choose “Other amount” and enter one.")

        if amount_minor is not None:
            field = "amount_custom" if use_typed else "amount_preset"
            if amount_minor < amounts.min_minor:
                self.add_error(
                    field, f"The smallest gift we can take online is {amounts.format(amounts.min_minor)}."
                )
            elif amount_minor > amounts.max_minor:
                self.add_error(
                    field,
                    f"Gifts above {amounts.format(amounts.max_minor)} cannot be made online. "
                    "Please write to us and we will help.",
                )
            elif not is_chargeable(amount_minor, currency):
                self.add_error(field, "Enter the amount with at most 2 decimal places.")
            else:
                cleaned["amount_minor"] = amount_minor
                cleaned["currency"] = currency

        if cleaned.get("fundraiser"):
            if self.fundraiser_page is None:
                self.add_error(None, "We could not find the fundraiser this gift was for.")
            elif refusal := self.fundraiser_page.refusal():
                self.add_error(None, refusal)
        if cleaned.get("wants_impact_emails") and not cleaned.get("donor_email"):
            self.add_error("donor_email", "Enter your email to get stories, or untick the box.")
        if cleaned.get("show_name_publicly") and not cleaned.get("donor_name", "").strip():
            self.add_error("donor_name", "Enter the name to show on the donor list, or untick the box.")
        if cleaned.get("dedication") and not cleaned.get("dedication_name", "").strip():
            self.add_error("dedication_name", "Enter the name of the person this gift honors or remembers.")
        if cleaned.get("dedication_notify_email") and not cleaned.get("dedication"):
            self.add_error(
                "dedication_notify_email", "Choose “In honor of” or “In memory of” to tell their family."
            )
        return cleaned

    def create_gift(self):
        """The pending gift (and, for a monthly gift, its record), with the consent it asks for."""
        data = self.cleaned_data
        donor = Donor.for_email(data["donor_email"], name=data["donor_name"].strip())
        fee = fee_to_cover(data["amount_minor"], data["currency"]) if data["cover_fee"] else 0
        gift = Gift.objects.create(
            project=data["project"],
            amount_minor=data["amount_minor"],
            currency=data["currency"],
            fee_covered_minor=fee,
            donor=donor,
            donor_name=data["donor_name"].strip(),
            donor_email=data["donor_email"],
            show_name_publicly=data["show_name_publicly"],
            dedication=data["dedication"] or "",
            dedication_name=data["dedication_name"].strip() if data["dedication"] else "",
            dedication_notify_email=data["dedication_notify_email"] if data["dedication"] else "",
            dedication_message=data["dedication_message"].strip() if data["dedication"] else "",
            dedication_shows_amount=bool(data["dedication"] and data["dedication_shows_amount"]),
            # Asked for, not given: anyone can type an address. Applied once the gift is paid.
            wants_impact_emails=data["wants_impact_emails"],
            fundraiser=self.fundraiser_page,
            owner_sees=(data.get("owner_sees") or Gift.OwnerSees.ANONYMOUS)
            if self.fundraiser_page
            else Gift.OwnerSees.ANONYMOUS,
        )
        if data.get("frequency") == Gift.Frequency.MONTHLY:
            RecurringGift.begin(gift)
        return gift

    @classmethod
    def initial_from_gift(cls, gift):
        """Fill the form again from a gift, when the donor comes back from checkout."""
        monthly = gift.frequency == Gift.Frequency.MONTHLY
        presets = [str(minor) for minor in gift_amounts(gift.currency, monthly=monthly).presets]
        amount = str(gift.amount_minor)
        initial = {
            "project": gift.project.slug,
            "donor_name": gift.donor_name,
            "donor_email": gift.donor_email,
            "show_name_publicly": gift.show_name_publicly,
            "dedication": gift.dedication,
            "dedication_name": gift.dedication_name,
            "dedication_notify_email": gift.dedication_notify_email,
            "dedication_message": gift.dedication_message,
            "dedication_shows_amount": gift.dedication_shows_amount,
            "frequency": gift.frequency,
            "cover_fee": bool(gift.fee_covered_minor),
            "wants_impact_emails": gift.wants_impact_emails,
            "fundraiser": gift.fundraiser.slug if gift.fundraiser_id else "",
            "owner_sees": gift.owner_sees,
        }
        if amount in presets:
            initial["amount_preset"] = amount
        else:
            initial["amount_preset"] = OTHER_AMOUNT
            initial["amount_custom"] = str(to_major(gift.amount_minor, gift.currency))
        return initial
