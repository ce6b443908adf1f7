from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import get_object_or_404

from donations.models import Project
from ledger.exports import csv_response
from ledger.figures import ProjectLedger

LEDGER_COLUMNS = ["date", "kind", "amount", "currency", "description", "story_url"]


def _absolute(request):
    origin = settings.SITE_URL or f"{request.scheme}://{request.get_host()}"
    return lambda path: origin + path


def _project_ledger(slug):
    return ProjectLedger(get_object_or_404(Project.objects.with_match_flag(), slug=slug))


def ledger_json(request, slug):
    """A project's public ledger: the figures on its page, and every line behind them."""
    ledger = _project_ledger(slug)
    return JsonResponse(ledger.as_json(_absolute(request)), json_dumps_params={"indent": 2})


def ledger_csv(request, slug):
    ledger = _project_ledger(slug)
    absolute = _absolute(request)
    rows = (
        [
            e.date.isoformat(),
            e.kind,
            e.major_amount,
            e.currency,
            e.description,
            absolute(e.story.get_absolute_url()) if e.story else "",
        ]
        for e in ledger.entries
    )
    return csv_response(f"{ledger.project.slug}-ledger.csv", LEDGER_COLUMNS, rows)
