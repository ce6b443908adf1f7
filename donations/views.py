import datetime
import logging

from csp.decorators import csp_exempt
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.functional import SimpleLazyObject
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django.views.generic import ListView

from donations import services, sharing, stripe_gateway, webhooks
from donations.forms import DonateForm
from donations.models import Gift, Project, RecurringGift
from ledger import figures
from ledger.figures import ProjectLedger
from podari import content_cache
from podari.ratelimit import client_ip, over_limit

logger = logging.getLogger(__name__)

SESSION_GIFTS_KEY = "gift_ids"
# A project page's ledger shows every money line and this many of the newest stories.
TIMELINE_STORIES = 24


def remember_gift(request, gift):
    """Let this browser (and only this one) see the gift's details on the thank-you page."""
    ids = request.session.get(SESSION_GIFTS_KEY, [])
    request.session[SESSION_GIFTS_KEY] = (ids + [str(gift.public_id)])[-20:]


def gift_belongs_to_browser(request, gift):
    return str(gift.public_id) in request.session.get(SESSION_GIFTS_KEY, [])


class ProjectListView(ListView):
    template_name = "donations/project_list.html"
    context_object_name = "projects"

    def get_queryset(self):
        return Project.objects.listed()


# The name shown for a donor who asked to be erased (donors/privacy.py keeps the gift).
ANONYMOUS_DONOR = "Anonymous donor"
DONOR_WALL_SIZE = 12


def donor_wall_cutoff(now=None):
    """The start of the current batch: the wall shows gifts paid before it, so it changes
    once a batch (DONOR_WALL_BATCH_HOURS, counted from midnight UTC) and never with one gift."""
    batch = settings.DONOR_WALL_BATCH_HOURS * 3600
    now = (now or timezone.now()).timestamp()
    return datetime.datetime.fromtimestamp(now - now % batch, tz=datetime.UTC)


def donor_wall(project):
    """Up to DONOR_WALL_SIZE names of donors who asked to be shown, in alphabetical order.

    Not by time of payment, and only from gifts paid before the current batch began: a
    visitor watching the page cannot pair a name that just appeared with the amount the
    total just rose by. A donor erased since shows as "Anonymous"."""
    cutoff = donor_wall_cutoff()
    names = (
        project.gifts.public_donors()
        .filter(paid_at__lt=cutoff)
        .order_by("-paid_at")
        .values_list("donor_name", flat=True)[:DONOR_WALL_SIZE]
    )
    shown = {"Anonymous" if name == ANONYMOUS_DONOR else name for name in names}
    return sorted(shown, key=str.casefold)


def project_detail(request, slug):
    project = get_object_or_404(Project.objects.with_monthly_donor_count().with_match_flag(), slug=slug)
    # Everything below the page's head is read (even built) only when the template
    # draws it, which it does not when the fragment is in the cache. One query for the
    # story cards (the newest 12) and the ledger's timeline (the newest TIMELINE_STORIES:
    # a project that has told hundreds of stories must not make a page of hundreds of rows).
    stories = SimpleLazyObject(
        lambda: list(
            project.stories.published().defer("body", "body_html").order_by("-publish_at")[:TIMELINE_STORIES]
        )
    )
    donors = SimpleLazyObject(lambda: donor_wall(project))
    return render(
        request,
        "donations/project_detail.html",
        {
            "project": project,
            "stories": stories,
            "public_donors": donors,
            "ledger": ProjectLedger(project, stories),
        },
    )


def personal(response):
    """One donor's page (their details, their gift): `private, no-store`, so neither the
    browser's history, a shared proxy nor the page cache keeps a copy."""
    add_never_cache_headers(response)
    return response


def donate(request):
    response = _donate(request)
    # A posted form answers with the donor's own details (errors, "try again", a redirect).
    return personal(response) if request.method == "POST" else response


def _donate(request):
    if not services.giving_is_configured():
        return render(request, "donations/not_configured.html", status=503)

    refused = _fundraiser_refusal(request)
    if refused is not None:
        return refused

    if request.method == "POST":
        if _too_many_attempts(request):
            response = render(request, "donations/rate_limited.html", status=429)
            response["Retry-After"] = str(settings.DONATE_RATE_LIMIT_WINDOW_SECONDS)
            return response
        form = DonateForm(request.POST)
        if form.is_valid():
            gift = form.create_gift()
            remember_gift(request, gift)
            try:
                checkout_url = services.start_checkout(request, gift)
            except stripe_gateway.StripeUnavailable:
                return render(
                    request,
                    "donations/checkout_unavailable.html",
                    {"resubmit": [(k, v) for k, v in request.POST.items() if k != "csrfmiddlewaretoken"]},
                    status=503,
                )
            return HttpResponseRedirect(checkout_url, status=303)
        context = {
            "form": form,
            "form_errors": form.errors,
            "personal": True,
            "on_fundraiser": form.fundraiser_page is not None,
        }
        return render(request, "donations/donate.html", context)

    initial = {}
    resume = request.GET.get("resume", "")
    gift = _browser_gift(request, public_id=resume) if resume else None
    if gift is not None:
        initial = DonateForm.initial_from_gift(gift)
    else:
        # Without a project asked for, the form offers the general fund.
        project_slug = request.GET.get("project")
        if project_slug:
            initial["project"] = project_slug
        # A supporter's page "Give" button links here with its slug.
        if request.GET.get("fundraiser"):
            initial["fundraiser"] = request.GET["fundraiser"][:80]
        # "Make it monthly" on the thank-you page links here with frequency=monthly.
        if request.GET.get("frequency") in Gift.Frequency.values:
            initial["frequency"] = request.GET["frequency"]
        # "Give monthly again" (a cancelled gift, or its email) links here with its amount.
        if request.GET.get("amount", "").isdigit():
            initial["amount_minor"] = int(request.GET["amount"])
    # The form (and its queries) is built only when the template draws it, which it does
    # not when its markup is in the cache (see donate.html).
    context = {
        "form": SimpleLazyObject(lambda: DonateForm(initial=initial)),
        # A form filled again from a gift is one donor's, not a page for search engines.
        "noindex": bool(resume),
        # Back from checkout without paying: say so, and that the details are kept.
        "returned_unpaid": gift is not None and not gift.is_paid,
        # ... nor markup for anybody else: it is never kept in the cache (nor is a form for
        # one fundraiser page, which names the page and hides the list of projects, nor one
        # filled in with an amount by "Give monthly again").
        "personal": gift is not None or bool(initial.get("fundraiser")) or "amount_minor" in initial,
        "on_fundraiser": bool(initial.get("fundraiser")),
        "variant": SimpleLazyObject(lambda: _donate_form_variant(request, initial)),
    }
    response = render(request, "donations/donate.html", context)
    return personal(response) if context["personal"] else response


def _fundraiser_refusal(request):
    """The page saying why a fundraiser takes no gift now (waiting for approval, paused,
    removed or ended), offering its project instead; None when it takes gifts or none was named."""
    from fundraisers.models import Fundraiser

    slug = (request.POST if request.method == "POST" else request.GET).get("fundraiser", "")[:80]
    if not slug:
        return None
    page = Fundraiser.objects.select_related("project").filter(slug=slug).first()
    if page is None:
        raise Http404("No such fundraiser")
    refusal = page.refusal()
    if not refusal:
        return None
    context = {"fundraiser": page, "refusal": refusal, "project": page.project}
    # 409: the request is fine, the page's state refuses it; never indexed, never cached.
    return personal(render(request, "fundraisers/not_taking_gifts.html", context, status=409))


def _donate_form_variant(request, initial):
    """What an unfilled form's markup depends on besides projects: the project asked for
    and the frequency. A project nobody can give to draws like any other (no option
    chosen), so made-up slugs in links add nothing to the cache."""
    slug = initial.get("project", "")
    if slug:
        slugs = content_cache.cached(
            request,
            "donate-slugs",
            lambda: set(Project.objects.accepting_gifts().values_list("slug", flat=True)),
        )
        if slug not in slugs:
            slug = "?"
    return f"{slug}:{initial.get('frequency', '')}"


def _too_many_attempts(request):
    """Card testing is held back per email and per browser; the per-address cap is loose,
    because many donors at one event share one address (see settings)."""
    window = settings.DONATE_RATE_LIMIT_WINDOW_SECONDS
    checks = [("ip", client_ip(request), settings.DONATE_RATE_LIMIT_PER_IP)]
    email = request.POST.get("donor_email", "")[:254]
    if email:
        checks.append(("email", email, settings.DONATE_RATE_LIMIT_PER_EMAIL))
    # Every accepted post carries the browser's CSRF cookie: it names the browser.
    browser = request.COOKIES.get(settings.CSRF_COOKIE_NAME, "")[:64]
    if browser:
        checks.append(("browser", browser, settings.DONATE_RATE_LIMIT_PER_BROWSER))
    # Every counter counts this post, even when an earlier one is already over.
    over = [
        kind
        for kind, identity, limit in checks
        if over_limit(f"donate-{kind}", identity, limit=limit, window_seconds=window)
    ]
    if over:
        logger.warning("Donate form rate limit reached (%s)", ", ".join(over))
        return True
    return False


def _browser_gift(request, *, public_id=None, session_id=None):
    gifts = Gift.objects.select_related("project")
    try:
        if public_id:
            gift = gifts.filter(public_id=public_id).first()
        else:
            gift = gifts.filter(stripe_checkout_session_id=session_id).first()
    except (ValueError, ValidationError):  # not a UUID
        return None
    if gift is None or not gift_belongs_to_browser(request, gift):
        return None
    return gift


@never_cache
def thanks(request):
    session_id = request.GET.get("session_id", "")[:255]
    gift = _browser_gift(request, session_id=session_id) if session_id else None
    context = {"gift": gift}
    if gift is not None and gift.is_paid:
        project = gift.project
        context["stories"] = project.stories.published().order_by("-publish_at")[:3]
        path = project.get_absolute_url()
        url = settings.SITE_URL + path if settings.SITE_URL else request.build_absolute_uri(path)
        context["share_links"] = sharing.share_links(
            url,
            text=f"I just gave to {project.title} at {settings.SITE_NAME}. Will you join me?",
            subject=f"I gave to {project.title}",
        )
        # Never ask someone who already gives monthly (this gift, or another one) to "make it monthly".
        gives_monthly = gift.is_monthly or (
            gift.donor_id is not None
            and RecurringGift.objects.filter(
                donor_id=gift.donor_id, status__in=RecurringGift.RUNNING_STATUSES
            ).exists()
        )
        if not gives_monthly:
            context["monthly_url"] = f"{project.get_donate_url()}&frequency=monthly"
        context["matches"] = figures.matches_of(gift)
    return render(request, "donations/thanks.html", context)


@never_cache
def simulated_checkout(request, session_id):
    gift = services.find_simulated_gift(session_id)
    if gift is None:
        raise Http404("No such simulated checkout.")
    if request.method == "POST":
        if request.POST.get("action") == "pay" and not gift.is_paid:
            services.pay_simulated_checkout(gift, lose_webhook=request.POST.get("lose_webhook") == "1")
            return redirect(f"{reverse('donations:thanks')}?session_id={session_id}")
        return redirect(f"{reverse('donations:donate')}?resume={gift.public_id}")
    return render(request, "donations/simulated_checkout.html", {"gift": gift})


@csrf_exempt  # Stripe cannot send a CSRF token; the signature check stands in for it.
@csp_exempt()  # a plain-text answer to Stripe: no page for a policy to protect
@require_POST
def stripe_webhook(request):
    try:
        event = webhooks.receive(request.body, request.headers.get("Stripe-Signature"))
    except (stripe_gateway.InvalidSignature, webhooks.InvalidEvent) as exc:
        logger.warning("Refused a webhook delivery: %s", exc)
        return HttpResponseBadRequest("Invalid payload or signature.")
    try:
        webhooks.process(event)
    except Exception:
        # A 5xx makes Stripe deliver the event again later; it is also kept for replay.
        return HttpResponse("Event stored; processing failed.", status=500)
    return HttpResponse("OK")
