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
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "charity facts"

    def __str__(self):
        return self.legal_name

    def save(self, *args, **kwargs):
        self.pk = 1  # one row, whatever the admin posts
        super().save(*args, **kwargs)

    def clean(self):
        digits = "".join(ch for ch in self.ein if ch.isdigit())
        if len(digits) != 9:
            raise ValidationError({"ein": "An EIN has nine digits, e.g. 12-3456789."})
        self.ein = f"{digits[:2]}-{digits[2:]}"

    @property
    def is_placeholder(self):
        return PLACEHOLDER in self.legal_name or PLACEHOLDER in self.address or self.ein == "00-0000000"

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


def validate_pdf(upload):
    if upload.size > 20 * 1024 * 1024:
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
