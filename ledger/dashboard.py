from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse

from donations.models import Project
from ledger import figures
from ledger.charts import bar_chart


def dashboard(request):
    """The reporting desk for Finance: a fixed number of queries, however many gifts there are."""
    if not request.user.has_perm("ledger.view_dashboard"):
        raise PermissionDenied
    per_project = figures.project_figures()
    projects = Project.objects.only("id", "title", "currency", "status").order_by(
        Project.status_order(), "position", "title"
    )
    charts = [
        {"currency": currency, "points": points, **bar_chart(points, currency)}
        for currency, points in figures.gifts_by_month(24).items()
    ]
    context = {
        **admin.site.each_context(request),
        "title": "Reporting desk",
        "raised": figures.raised_by_period(),
        "projects": [{"project": p, "figures": per_project.get(p.pk, [])} for p in projects],
        "donors": figures.donor_counts(),
        "recurring": figures.monthly_recurring_revenue(),
        "charts": charts,
    }
    return TemplateResponse(request, "admin/ledger/dashboard.html", context)
