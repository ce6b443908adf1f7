import secrets

from django import forms
from django.utils import timezone
from django.utils.text import slugify

from donations.models import Project
from donations.money import gift_amounts, parse_major_amount, to_major
from fundraisers import moderation
from fundraisers.models import Fundraiser, FundraiserReport
from podari.text import single_line

# A page runs for at most a year: a fundraiser is for an occasion, not a standing appeal.
LONGEST_RUN_DAYS = 366
RESERVED_SLUGS = {"link", "link-sent", "sign-out", "mine", "new"}


class EmailForm(forms.Form):
    email = forms.EmailField(
        label="Your email address",
        max_length=254,
        help_text="We will email you a link that signs you in. There is no password.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    name = forms.CharField(
        label="Your name",
        max_length=200,
        required=False,
        help_text="Shown on your pages as the person raising money.",
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )

    def clean_name(self):
        return single_line(self.cleaned_data["name"])


class FundraiserForm(forms.ModelForm):
    """A supporter's page. The project is chosen once, on creation; the goal is typed in
    the project's major units ("500") and kept in minor units."""

    goal = forms.CharField(
        label="Your goal",
        max_length=20,
        help_text="In the project's currency, for example 500.",
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    photo_permission = forms.BooleanField(
        label="I may publish this photo, and a parent or guardian agreed for any child in it",
        required=True,
        error_messages={"required": "Tick the box to confirm you may publish this photo, or choose another."},
    )

    class Meta:
        model = Fundraiser
        fields = [
            "project",
            "title",
            "occasion",
            "ends_on",
            "story",
            "image",
            "image_alt",
            "photo_permission",
        ]
        labels = {"title": "Title of your page", "ends_on": "Last day of giving", "image": "A photo"}
        help_texts = {"title": "For example: “Lena’s 40th birthday for CAR-T therapy”."}
        widgets = {
            "ends_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "story": forms.Textarea(attrs={"rows": 10}),
            "occasion": forms.RadioSelect,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # The project never changes: the page's gifts went to it.
            del self.fields["project"]
            self.initial["goal"] = str(to_major(self.instance.goal_minor, self.instance.project.currency))
            self.initial["photo_permission"] = self.instance.photo_permission
        else:
            self.fields["project"].queryset = Project.objects.accepting_gifts().order_by("position", "title")
            self.fields["project"].empty_label = None
            self.fields["project"].label = "Which project will your page support?"
            self.fields["project"].help_text = "You cannot change it later."

    def clean_title(self):
        return single_line(self.cleaned_data["title"])

    def clean_ends_on(self):
        ends_on = self.cleaned_data["ends_on"]
        today = timezone.localdate()
        # An existing page may keep a past date (it has ended); a new date is in the future.
        if ends_on != self.instance.ends_on or not self.instance.pk:
            if ends_on < today:
                raise forms.ValidationError("Choose today or a later day.")
            if (ends_on - today).days > LONGEST_RUN_DAYS:
                raise forms.ValidationError("A page can take gifts for up to a year. Choose an earlier day.")
        return ends_on

    def clean(self):
        cleaned = super().clean()
        project = self.instance.project if self.instance.pk else cleaned.get("project")
        if project is not None and cleaned.get("goal"):
            amounts = gift_amounts(project.currency)
            try:
                goal = parse_major_amount(cleaned["goal"], project.currency)
            except ValueError as exc:
                self.add_error("goal", str(exc))
            else:
                if goal < amounts.min_minor:
                    self.add_error("goal", f"Set a goal of at least {amounts.format(amounts.min_minor)}.")
                elif goal > 100 * amounts.max_minor:
                    self.add_error(
                        "goal", f"Set a goal of at most {amounts.format(100 * amounts.max_minor)}."
                    )
                else:
                    self.instance.goal_minor = goal
        return cleaned

    def save(self, commit=True):
        page = super().save(commit=False)
        if not page.slug:
            base = slugify(page.title)[:60].strip("-") or "fundraiser"
            slug = base
            # Addresses of the app's own pages (/fundraisers/new/) are never a page's.
            while slug in RESERVED_SLUGS or Fundraiser.objects.filter(slug=slug).exists():
                slug = f"{base}-{secrets.token_hex(2)}"
            page.slug = slug
        page.submitted()
        if commit:
            page.save()
        return page


class ThankYouForm(forms.ModelForm):
    class Meta:
        model = Fundraiser
        fields = ["thank_you_note"]
        labels = {"thank_you_note": "Your thank-you note"}
        widgets = {"thank_you_note": forms.Textarea(attrs={"rows": 5})}

    def clean_thank_you_note(self):
        # Shown at once, with no one to read it first: so nothing that would be held.
        note = self.cleaned_data["thank_you_note"].strip()
        if moderation.held_reasons(note):
            raise forms.ValidationError("A thank-you note cannot contain links, addresses or abusive words.")
        return note


class ReportForm(forms.ModelForm):
    class Meta:
        model = FundraiserReport
        fields = ["reason", "details"]
        labels = {"reason": "What is wrong with this page?", "details": "Tell us more"}
        help_texts = {"details": "Optional. Please do not include anyone’s personal details."}
        widgets = {"reason": forms.RadioSelect, "details": forms.Textarea(attrs={"rows": 4})}
