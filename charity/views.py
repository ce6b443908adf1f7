from django.shortcuts import get_object_or_404, render

from charity.models import Charity, FinancialReport, Page, Person
from donations.models import Project
from podari.page_cache import public_page


@public_page
def page_detail(request, slug):
    page = get_object_or_404(Page, slug=slug)
    documents = page.documents.all()
    return render(request, "charity/page.html", {"page": page, "documents": documents})


@public_page
def about(request):
    """Who we are: the page staff write, then the facts and people from their own records."""
    people = list(Person.objects.all())
    return render(
        request,
        "charity/about.html",
        {
            "page": Page.objects.filter(slug="about").first(),
            "facts": Charity.load(),
            "board": [p for p in people if p.group == Person.Group.BOARD],
            "staff": [p for p in people if p.group == Person.Group.STAFF],
        },
    )


@public_page
def financial_reports(request):
    """Each project's ledger, and the annual reports and Form 990s staff uploaded (with any
    PDF attached to the page itself, as before this page had reports of its own)."""
    page = Page.objects.filter(slug="financial-reports").first()
    return render(
        request,
        "charity/financial_reports.html",
        {
            "page": page,
            "documents": page.documents.all() if page else [],
            "projects": Project.objects.order_by("position", "title").only("title", "slug", "short_name"),
            "reports": FinancialReport.objects.all(),
        },
    )
