"""Supporters' fundraiser pages: the public page, and the owner's pages behind an emailed link.

Signing in works as "Manage my giving" does (donors/views.py): a signed token names a
one-use SupporterSignInLink; opening it stashes the token and shows a button, and only the
POST signs in, so a mail scanner that follows links signs nobody in.
"""

import time
import uuid
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from campaigns.models import Match
from donors.views import token_page
from fundraisers import digests, emails, tasks
from fundraisers.forms import EmailForm, FundraiserForm, ReportForm, ThankYouForm
from fundraisers.models import Fundraiser, FundraiserReport, Supporter, SupporterSignInLink
from ledger import figures
from podari.link_sign_in import sign_in_required, signed_in
from podari.ratelimit import client_ip, over_limit

SESSION_SUPPORTER = "supporter_id"
SESSION_SIGNED_IN_AT = "supporter_signed_in_at"
SESSION_TOKEN = "supporter_sign_in_token"  # noqa: S105 (a session key, not a secret)
SIGN_IN_SALT = "fundraisers.sign-in"
REPORTS_PER_HOUR = 5


def private_page(view):
    """The supporter's own pages: never cached, never indexed."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    return never_cache(wrapped)


def signed_in_supporter(request):
    return signed_in(request, Supporter, SESSION_SUPPORTER, SESSION_SIGNED_IN_AT)


supporter_required = sign_in_required(
    signed_in_supporter,
    prompt="Enter your email address and we will send you a link to sign in.",
    sign_in_url="fundraisers:start",
)


def _own_page(supporter, slug):
    return get_object_or_404(Fundraiser.objects.select_related("project"), slug=slug, supporter=supporter)


# Signing in


@private_page
@require_http_methods(["GET", "POST"])
def start(request):
    if signed_in_supporter(request) is not None:
        return redirect("fundraisers:mine")
    form = EmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        over = over_limit(
            "supporter-link-ip",
            client_ip(request),
            limit=settings.DONOR_LINK_RATE_LIMIT_PER_IP,
            window_seconds=settings.DONOR_LINK_RATE_LIMIT_WINDOW_SECONDS,
        )
        if over:
            response = render(request, "donors/rate_limited.html", status=429)
            response["Retry-After"] = str(settings.DONOR_LINK_RATE_LIMIT_WINDOW_SECONDS)
            return response
        send_sign_in_link(form.cleaned_data["email"], form.cleaned_data["name"])
        return redirect("fundraisers:link_sent")
    return render(request, "fundraisers/start.html", {"form": form})


def send_sign_in_link(email, name=""):
    """Anyone may start a page, so the address becomes a supporter at once; links sent to
    one address are capped per window, as donors' are, and older links keep working."""
    email = Supporter.normalize_email(email)
    with transaction.atomic():
        supporter, _ = Supporter.objects.select_for_update().get_or_create(email=email)
        if name and not supporter.name:
            supporter.name = name
            supporter.save(update_fields=["name"])
        window_start = timezone.now() - timezone.timedelta(
            seconds=settings.DONOR_LINK_RATE_LIMIT_WINDOW_SECONDS
        )
        recent = supporter.sign_in_links.filter(created_at__gte=window_start).count()
        if recent >= settings.DONOR_LINK_RATE_LIMIT_PER_EMAIL:
            return None
        link = SupporterSignInLink.objects.create(supporter=supporter)
        token = signing.dumps(str(link.pk), salt=SIGN_IN_SALT)
        context = {
            "url": emails.absolute(reverse("fundraisers:sign_in", args=[token])),
            "minutes": settings.DONOR_LINK_MAX_AGE_SECONDS // 60,
        }
        subject = f"Your link to your fundraiser pages on {settings.SITE_NAME}"
        transaction.on_commit(
            lambda: tasks.send_supporter_email.enqueue(
                supporter.email, "fundraiser_sign_in", subject, context
            )
        )
    return link


@private_page
def link_sent(request):
    return render(request, "fundraisers/link_sent.html")


@token_page
@private_page
@require_http_methods(["GET", "POST"])
def sign_in_link(request, token):
    """The emailed link: a GET puts the token aside and shows the page without it."""
    request.session[SESSION_TOKEN] = token[:1000]
    return redirect("fundraisers:sign_in_page")


@private_page
@require_http_methods(["GET", "POST"])
def sign_in(request):
    token = request.session.get(SESSION_TOKEN, "")
    try:
        link_id = uuid.UUID(
            signing.loads(token, salt=SIGN_IN_SALT, max_age=settings.DONOR_LINK_MAX_AGE_SECONDS)
        )
    except (signing.BadSignature, ValueError, TypeError):
        link_id = None
    link = SupporterSignInLink.objects.filter(pk=link_id).first() if link_id else None
    if link is not None and link.used_at is not None:
        link = None
    if link is not None and request.method == "POST" and not link.use():
        link = None
    if link is None:
        return render(request, "fundraisers/link_invalid.html", status=410)
    if request.method == "GET":
        return render(request, "fundraisers/sign_in.html")
    request.session.pop(SESSION_TOKEN, None)
    request.session.cycle_key()
    request.session[SESSION_SUPPORTER] = link.supporter_id
    request.session[SESSION_SIGNED_IN_AT] = int(time.time())
    return redirect("fundraisers:mine")


@private_page
@require_POST
def sign_out(request):
    request.session.pop(SESSION_SUPPORTER, None)
    request.session.pop(SESSION_SIGNED_IN_AT, None)
    messages.success(request, "You have signed out of your fundraiser pages.")
    return redirect("fundraisers:start")


# The supporter's own pages


@private_page
@supporter_required
def mine(request, supporter):
    pages = supporter.fundraisers.select_related("project").order_by("-created_at")
    return render(request, "fundraisers/mine.html", {"supporter": supporter, "pages": pages})


@private_page
@supporter_required
@require_http_methods(["GET", "POST"])
def create(request, supporter):
    form = FundraiserForm(
        request.POST or None, request.FILES or None, instance=Fundraiser(supporter=supporter)
    )
    if request.method == "POST" and form.is_valid():
        page = form.save()
        _after_submit(request, page)
        return redirect("fundraisers:owner", slug=page.slug)
    return render(request, "fundraisers/form.html", {"form": form, "creating": True})


@private_page
@supporter_required
@require_http_methods(["GET", "POST"])
def edit(request, supporter, slug):
    page = _own_page(supporter, slug)
    if page.status == Fundraiser.Status.REMOVED:
        raise Http404("Removed by staff")
    form = FundraiserForm(request.POST or None, request.FILES or None, instance=page)
    if request.method == "POST" and form.is_valid():
        page = form.save()
        _after_submit(request, page)
        return redirect("fundraisers:owner", slug=page.slug)
    return render(request, "fundraisers/form.html", {"form": form, "page": page, "creating": False})


def _after_submit(request, page):
    if page.status == Fundraiser.Status.LIVE:
        messages.success(request, "Your page is live. Share its address with your friends.")
    else:
        messages.success(
            request,
            "Thank you! Our team checks every new or changed page; we will email you when it is live.",
        )


@private_page
@supporter_required
@require_http_methods(["GET", "POST"])
def owner(request, supporter, slug):
    """The owner's view of a page: its state, its figures, who gave (as each chose) and the
    thank-you note. Never an email address (digests.gifts_for_owner reads none)."""
    page = _own_page(supporter, slug)
    form = ThankYouForm(request.POST or None, instance=page)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Your thank-you note is on your page.")
        return redirect("fundraisers:owner", slug=page.slug)
    context = {
        "page": page,
        "form": form,
        "figures": figures.fundraiser_figures(page),
        "gifts": digests.gifts_for_owner(page),
    }
    return render(request, "fundraisers/owner.html", context)


# Public


def detail(request, slug):
    """The public page. A page waiting for approval, paused or removed is shown only to its
    owner (as a preview, noindex); to anyone else it is not there."""
    page = get_object_or_404(Fundraiser.objects.select_related("project", "supporter"), slug=slug)
    is_owner = signed_in_supporter(request) == page.supporter if not page.is_public else False
    if not page.is_public and not is_owner:
        raise Http404("Not public")
    refusal = page.refusal()
    context = {
        "page": page,
        "project": page.project,
        "figures": figures.fundraiser_figures(page),
        "refusal": refusal,
        "preview": not page.is_public,
        # The match a gift made on this page now would get: the donate form's own question
        # (in the project's currency, which the page gives in), so the two never disagree.
        "matching": None if refusal else Match.objects.offered_for(page.project, page.project.currency),
        "report_form": ReportForm(),
    }
    response = render(request, "fundraisers/detail.html", context)
    if not page.is_public:
        # A preview for its owner: kept by no cache, indexed by no search engine.
        add_never_cache_headers(response)
        response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@require_http_methods(["GET", "POST"])
def report(request, slug):
    page = get_object_or_404(Fundraiser.objects.live(), slug=slug)
    form = ReportForm(request.POST or None)
    if request.method == "POST":
        if over_limit(
            "fundraiser-report-ip", client_ip(request), limit=REPORTS_PER_HOUR, window_seconds=3600
        ):
            response = render(request, "fundraisers/report_limited.html", {"page": page}, status=429)
            response["Retry-After"] = "3600"
            return response
        if form.is_valid():
            FundraiserReport.objects.create(fundraiser=page, **form.cleaned_data)
            messages.success(request, "Thank you. Our team will look at this page.")
            return redirect(page.get_absolute_url())
    response = render(request, "fundraisers/report.html", {"page": page, "form": form})
    response["X-Robots-Tag"] = "noindex"
    return response
