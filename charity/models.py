"""Who the charity is: the facts donors check before they give, and the pages staff write."""

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from markdownx.models import MarkdownxField

from podari.markdown import render_markdown, validate_markdown

FACTS_CACHE_KEY = "charity:facts-and-footer"
PLACEHOLDER = "[placeholder]"


class Charity(models.Model):
    """The one row of facts about the charity: shown in the footer, on the donate page and on receipts.

    Staff edit them in the admin. The defaults are placeholders, marked as such, never a
    real organisation's EIN or address.
    """

    legal_name = models.CharField(max_length=200, default=f"Podari.Life, Inc. {PLACEHOLDER}")
    ein = models.CharField(
        "EIN",
        max_length=20,
        default="00-0000000",
        help_text="The US Employer Identification Number, e.g. 12-3456789.",
    )
    address = models.TextField(default=f"123 Example Street {PLACEHOLDER}\nNew York, NY 10001")
    contact_email = models.EmailField(default="hello@podari.life")
    tax_status = models.TextField(
        "501(c)(3) statement",
        default=(
            "Podari.Life is a 501(c)(3) nonprofit organization. Gifts are tax-deductible to the "
            "extent allowed by law."
        ),
        help_text="Shown on the donate page, in the footer and on receipts (which add that no goods "
        "or services were given in exchange).",
    )
    founded_year = models.PositiveSmallIntegerField(
        "year founded", null=True, blank=True, help_text="Shown on the About page. Empty: not shown."
    )
    state_of_incorporation = models.CharField(
        max_length=60,
        default=f"New York {PLACEHOLDER}",
        help_text="The US state the charity is incorporated in.",
    )
    money_path = MarkdownxField(
        "how money reaches the work in Russia",
        validators=[validate_markdown],
        default=(
            "*Demo text: replace it with the charity's own.*\n\n"
            "Podari.Life makes grants to its partner charity in Russia, Podari Zhizn, for projects the "
            "board has approved; the partner pays the hospitals and suppliers and reports back on "
            "every grant. Grants are made in line with US sanctions law: we screen every recipient "
            "against the lists of the Treasury's Office of Foreign Assets Control (OFAC) and fund "
            "only humanitarian medical care, which those rules allow."
        ),
        help_text="Markdown, shown on the About page: grants to the partner charity, and how they "
        "comply with US sanctions law (OFAC).",
    )
    money_path_html = models.TextField(editable=False, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "charity facts"

    def __str__(self):
        return self.legal_name

    def save(self, *args, **kwargs):
        self.pk = 1  # one row, whatever the admin posts
        self.money_path_html = render_markdown(self.money_path)
        super().save(*args, **kwargs)

    # The IRS's Tax Exempt Organization Search, where anyone can check a charity's status.
    IRS_SEARCH_URL = "https://apps.irs.gov/app/eos/"

    @property
    def irs_search_url(self):
        return self.IRS_SEARCH_URL

    def placeholders(self):
        """The facts still at their placeholder values: what receipts must not go out with."""
        found = []
        if PLACEHOLDER in self.legal_name:
            found.append("legal name")
        if PLACEHOLDER in self.address:
            found.append("address")
        if self.ein == "00-0000000":
            found.append("EIN")
        return found

    def clean(self):
        digits = "".join(ch for ch in self.ein if ch.isdigit())
        if len(digits) != 9:
            raise ValidationError({"ein": "An EIN has nine digits, e.g. 12-3456789."})
        self.ein = f"{digits[:2]}-{digits[2:]}"

    @property
    def is_placeholder(self):
        return bool(self.placeholders())

    @classmethod
    def load(cls):
        charity, _ = cls.objects.get_or_create(pk=1)
        return charity


class PageQuerySet(models.QuerySet):
    def in_footer(self):
        return self.filter(show_in_footer=True).order_by("position", "title")


class Page(models.Model):
    """A page staff write in Markdown: About, Privacy policy, Financial reports, Contact."""

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True, help_text="The address: /about/ for 'about'.")
    summary = models.CharField(max_length=300, blank=True, help_text="For search results and link previews.")
    body = MarkdownxField(help_text="Markdown.", validators=[validate_markdown])
    body_html = models.TextField(editable=False, blank=True)
    show_in_footer = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0, help_text="Lower comes first in the footer.")
    updated_at = models.DateTimeField(auto_now=True)

    objects = PageQuerySet.as_manager()

    class Meta:
        ordering = ["position", "title"]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        self.body_html = render_markdown(self.body)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("charity:page", args=[self.slug])


MAX_PDF_BYTES = 20 * 1024 * 1024
PDF_CONTENT_TYPES = ("application/pdf", "application/x-pdf")


def validate_pdf(upload):
    """A PDF by name, by the type the browser sent, by size and by its first bytes.

    The name and type are what the uploader claims; the `%PDF-` magic is what the file is.
    A file already stored (a form saved again without a new upload) has no type to check.
    """
    if not upload.name.lower().endswith(".pdf"):
        raise ValidationError("Upload a file ending in .pdf.")
    # A new upload is the FieldFile's own file until saved; a stored one has no type.
    sent = upload.file if not getattr(upload, "_committed", True) else upload
    content_type = getattr(sent, "content_type", None)
    if content_type is not None and content_type.split(";")[0].strip().lower() not in PDF_CONTENT_TYPES:
        raise ValidationError(
            "Upload a PDF file (this one was sent as %(type)s).", params={"type": content_type}
        )
    if upload.size > MAX_PDF_BYTES:
        raise ValidationError("A report can be at most 20 MB.")
    upload.seek(0)
    if upload.read(5) != b"%PDF-":
        raise ValidationError("Upload a PDF file.")
    upload.seek(0)


def document_path(instance, filename):
    import secrets

    # Never the uploader's file name, and always .pdf: the type was checked from the content.
    return f"documents/{secrets.token_hex(12)}.pdf"


class PageDocument(models.Model):
    """A PDF attached to a page, such as an annual report or a Form 990."""

    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="documents")
    title = models.CharField(max_length=200, help_text="e.g. 'Annual report 2025'.")
    file = models.FileField(upload_to=document_path, validators=[validate_pdf])
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "-id"]

    def __str__(self):
        return self.title


class Person(models.Model):
    """Someone on the board or staff, listed on the About page."""

    class Group(models.TextChoices):
        BOARD = "board", "Board of directors"
        STAFF = "staff", "Staff"

    name = models.CharField(max_length=120)
    role = models.CharField(max_length=120, help_text="e.g. 'Board chair', 'Executive director'.")
    group = models.CharField(max_length=10, choices=Group.choices, default=Group.BOARD)
    bio = models.CharField(max_length=300, blank=True, help_text="One sentence, optional.")
    position = models.PositiveIntegerField(default=0, help_text="Lower comes first.")

    class Meta:
        ordering = ["group", "position", "name"]
        verbose_name_plural = "people"

    def __str__(self):
        return f"{self.name}, {self.role}"


def report_path(instance, filename):
    import secrets

    # Never the uploader's file name, and always .pdf: the type was checked from the content.
    return f"reports/{secrets.token_hex(12)}.pdf"


class FinancialReport(models.Model):
    """An annual report or a Form 990, listed on the Financial reports page."""

    class Kind(models.TextChoices):
        ANNUAL_REPORT = "annual_report", "Annual report"
        FORM_990 = "form_990", "Form 990"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    year = models.PositiveSmallIntegerField(help_text="The fiscal year it covers.")
    file = models.FileField(
        upload_to=report_path, validators=[validate_pdf], help_text="A PDF of at most 20 MB."
    )
    published_at = models.DateField(auto_now_add=True)

    class Meta:
        ordering = ["-year", "kind"]
        constraints = [models.UniqueConstraint(fields=["kind", "year"], name="one_report_per_kind_and_year")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.year}"


def footer_context():
    """The facts and footer links every page shows: one cache read, two queries when cold."""
    cached = cache.get(FACTS_CACHE_KEY)
    if cached is None:
        cached = {
            "charity": Charity.load(),
            "footer_pages": list(Page.objects.in_footer().only("title", "slug")),
        }
        cache.set(FACTS_CACHE_KEY, cached, timeout=None)
    return cached
