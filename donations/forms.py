from django import forms
from django.conf import settings

from donations.models import Gift, Project
from donations.money import format_money, parse_major_amount, to_major

OTHER_AMOUNT = "other"


class DonateForm(forms.Form):
    """The donate page. Amounts come in as presets (minor units) or typed major units."""

    amount_preset = forms.ChoiceField(label="Amount", widget=forms.RadioSelect, required=False)
    amount_custom = forms.CharField(
        label="Other amount",
        required=False,
        max_length=20,
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
    dedication = forms.ChoiceField(
        label="Dedicate this gift",
        choices=Gift.Dedication.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    dedication_name = forms.CharField(label="Name of the person", required=False, max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        projects = Project.objects.accepting_gifts().order_by("-is_general_fund", "position", "title")
        self.fields["project"].queryset = projects
        self.fields["project"].choices = [
            (p.slug, "Where it is needed most" if p.is_general_fund else p.title) for p in projects
        ]
        currency = settings.DEFAULT_CURRENCY
        self.fields["amount_preset"].choices = [
            (str(minor), format_money(minor, currency)) for minor in settings.DONATION_PRESETS_MINOR
        ] + [(OTHER_AMOUNT, "Other amount")]
        self.fields["amount_custom"].help_text = (
            f"Gifts from {format_money(settings.DONATION_MIN_MINOR, currency)} "
            f"to {format_money(settings.DONATION_MAX_MINOR, currency)}."
        )

    @staticmethod
    def default_preset_minor():
        """The second preset is the one most donors pick; preselect it."""
        presets = settings.DONATION_PRESETS_MINOR
        return presets[1] if len(presets) > 1 else presets[0]

    def clean(self):
        cleaned = super().clean()
        project = cleaned.get("project")
        currency = project.currency if project else settings.DEFAULT_CURRENCY
        preset, custom = cleaned.get("amount_preset"), (cleaned.get("amount_custom") or "").strip()

        amount_minor = None
        if custom or preset == OTHER_AMOUNT:
            try:
                amount_minor = parse_major_amount(custom, currency)
            except ValueError as exc:
                self.add_error("amount_custom", str(exc))
        elif preset:
            amount_minor = int(preset)
        else:
            self.add_error("amount_preset", "Choose an amount, or enter another amount.")

        if amount_minor is not None:
            low, high = settings.DONATION_MIN_MINOR, settings.DONATION_MAX_MINOR
            field = "amount_custom" if custom or preset == OTHER_AMOUNT else "amount_preset"
            if amount_minor < low:
                self.add_error(
                    field, f"The smallest gift we can take online is {format_money(low, currency)}."
                )
            elif amount_minor > high:
                self.add_error(
                    field,
                    f"Gifts above {format_money(high, currency)} cannot be made online. "
                    "Please write to us and we will help.",
                )
            else:
                cleaned["amount_minor"] = amount_minor
                cleaned["currency"] = currency

        if cleaned.get("show_name_publicly") and not cleaned.get("donor_name", "").strip():
            self.add_error("donor_name", "Enter the name to show on the donor list, or untick the box.")
        if cleaned.get("dedication") and not cleaned.get("dedication_name", "").strip():
            self.add_error("dedication_name", "Enter the name of the person this gift honours.")
        return cleaned

    def create_gift(self):
        data = self.cleaned_data
        return Gift.objects.create(
            project=data["project"],
            amount_minor=data["amount_minor"],
            currency=data["currency"],
            donor_name=data["donor_name"].strip(),
            donor_email=data["donor_email"],
            show_name_publicly=data["show_name_publicly"],
            dedication=data["dedication"] or "",
            dedication_name=data["dedication_name"].strip() if data["dedication"] else "",
        )

    @classmethod
    def initial_from_gift(cls, gift):
        """Fill the form again from a gift, when the donor comes back from checkout."""
        presets = [str(minor) for minor in settings.DONATION_PRESETS_MINOR]
        amount = str(gift.amount_minor)
        initial = {
            "project": gift.project.slug,
            "donor_name": gift.donor_name,
            "donor_email": gift.donor_email,
            "show_name_publicly": gift.show_name_publicly,
            "dedication": gift.dedication,
            "dedication_name": gift.dedication_name,
        }
        if amount in presets:
            initial["amount_preset"] = amount
        else:
            initial["amount_preset"] = OTHER_AMOUNT
            initial["amount_custom"] = str(to_major(gift.amount_minor, gift.currency))
        return initial
