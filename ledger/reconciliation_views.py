"""The Finance page of reconciliation with Stripe: the latest runs and what each found.

Only ids, amounts and links to gifts: no donor's name or address is on it."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404
from django.template.response import TemplateResponse

from ledger.models import Difference, ReconciliationRun

RUNS_SHOWN = 20


def reconciliation(request, run_id=None):
    if not request.user.has_perm("ledger.view_reconciliationrun"):
        raise PermissionDenied
    runs = ReconciliationRun.objects.annotate(
        found=Count("differences"), repaired_count=Count("differences", filter=Q(differences__repaired=True))
    ).order_by("-started_at", "-pk")
    if run_id is None:
        run = runs.first()
    else:
        run = runs.filter(pk=run_id).first()
        if run is None:
            raise Http404("No such reconciliation run.")
    differences = []
    if run is not None:
        differences = list(
            Difference.objects.filter(run=run).select_related("gift").only(
                "kind", "description", "stripe_object_id", "gift__id", "ledger_amount_minor",
                "stripe_amount_minor", "currency", "repaired", "run_id",
            ).order_by("kind", "pk")
        )  # fmt: skip
    context = {
        **admin.site.each_context(request),
        "title": "Reconciliation with Stripe",
        "runs": runs[:RUNS_SHOWN],
        "run": run,
        "differences": differences,
        "can_view_gifts": request.user.has_perm("donations.view_gift"),
    }
    return TemplateResponse(request, "admin/ledger/reconciliation.html", context)
