"""Donors' own pages, with no password: "Manage my giving" through an emailed link, and
email preferences through signed links in the emails.

Every page here is the donor's own: never cached, never indexed, and it shows only what
belongs to the donor signed in (or named by the signed link).
"""

import csv
import logging
import time
from functools import wraps

from django import forms
from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from donations import services, stripe_gateway
from donations.forms import AMOUNT_CUSTOM_MAX_LENGTH
from donations.models import Donor, Gift, RecurringGift
from donations.money import format_money, gift_amounts, is_chargeable, parse_major_amount, to_major
from donors import consent, emails, links, privacy, tasks
from donors.models import ConsentChange, Email, PrivacyRequest, SignInLink, enqueue_on_commit
from ledger import figures
from podari.link_sign_in import sign_in_required, signed_in
from podari.ratelimit import client_ip, over_limit

logger = logging.getLogger(__name__)

SESSION_DONOR = "donor_id"
SESSION_SIGNED_IN_AT = "donor_signed_in_at"


def donor_page(view):
    """Never cached (by browsers, proxies or the page cache) and never indexed."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    return never_cache(wrapped)


# Links in emails carry a signed token in their path. Opened in a browser, the address
# with the token only puts the token in the session and redirects to the same page without
# it, with `Referrer-Policy: no-referrer`: the token reaches no Referer, no page's address
# bar or history, and nothing the page loads. (Posting straight to the token address still
# works: mail programs unsubscribe so, and the test client.) The proxy's access log masks
# it (deploy/nginx/podari-log.conf).
TOKENS_SESSION_KEY = "donor_link_tokens"


def token_page(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Referrer-Policy"] = "no-referrer"
        return response

    return wrapped


def _stash_token(request, kind, token, to):
    tokens = dict(request.session.get(TOKENS_SESSION_KEY, {}))
    tokens[kind] = token[:1000]
    request.session[TOKENS_SESSION_KEY] = tokens
    return redirect(to)


def _stashed_token(request, kind):
    return request.session.get(TOKENS_SESSION_KEY, {}).get(kind, "")


def _forget_token(request, kind):
    tokens = dict(request.session.get(TOKENS_SESSION_KEY, {}))
    if tokens.pop(kind, None) is not None:
        request.session[TOKENS_SESSION_KEY] = tokens


def signed_in_donor(request):
    return signed_in(request, Donor, SESSION_DONOR, SESSION_SIGNED_IN_AT)


donor_required = sign_in_required(
    signed_in_donor,
    prompt="Enter your email address and we will send you a link to your giving.",
    sign_in_url="donors:request_link",
)


class EmailForm(forms.Form):
    email = forms.EmailField(
        label="Your email address",
        max_length=254,
        help_text="The one you gave with. We will email you a link to see and manage your giving.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


@donor_page
@require_http_methods(["GET", "POST"])
def request_link(request):
    form = EmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = Donor.normalize_email(form.cleaned_data["email"])
        if _too_many_requests(request):
            response = render(request, "donors/rate_limited.html", status=429)
            response["Retry-After"] = str(settings.DONOR_LINK_RATE_LIMIT_WINDOW_SECONDS)
            return response
        # The same work, the same time and the same answer for any address: whether it
        # gave is looked up by the task, after the answer (donors/tasks.py).
        enqueue_on_commit(tasks.send_sign_in_link, email)
        return redirect("donors:link_sent")
    return render(request, "donors/request_link.html", {"form": form})


def _too_many_requests(request):
    """Requests from one client address. Per email the task throttles what is sent instead
    (send_sign_in_link): a limit here would let a stranger lock a donor out."""
    over = over_limit(
        "donor-link-ip",
        client_ip(request),
        limit=settings.DONOR_LINK_RATE_LIMIT_PER_IP,
        window_seconds=settings.DONOR_LINK_RATE_LIMIT_WINDOW_SECONDS,
    )
    if over:
        logger.warning("Manage-my-giving link rate limit reached for a client address")
    return over


def send_sign_in_link(email):
    """Email a sign-in link to the donor with this address, if there is one (from a task).

    At most DONOR_LINK_RATE_LIMIT_PER_EMAIL links a window are sent to one address; a
    request beyond that sends nothing. Nobody is locked out by it: a link works for as long
    as the window lasts and sending one never spoils another, so the donor can open the
    newest link in their mailbox, whoever asked for it."""
    with transaction.atomic():
        donor = Donor.objects.select_for_update().filter(email=Donor.normalize_email(email)).first()
        if donor is None:
            return None
        since = timezone.now() - timezone.timedelta(seconds=settings.DONOR_LINK_RATE_LIMIT_WINDOW_SECONDS)
        if (
            donor.sign_in_links.filter(created_at__gte=since).count()
            >= settings.DONOR_LINK_RATE_LIMIT_PER_EMAIL
        ):
            return None
        link = SignInLink.objects.create(donor=donor)
        Email.objects.queue(
            kind=Email.Kind.SIGN_IN,
            key=f"sign_in:{link.pk}",
            to=donor.email,
            donor=donor,
            data={"link_id": str(link.pk)},
        )
        return link


@donor_page
def link_sent(request):
    return render(request, "donors/link_sent.html")


def _usable_link(token):
    """(link, None) for a link that may still be used, else (None, response)."""
    try:
        link_id = links.sign_in_link_id(token)
    except links.BadLink:
        return None, "expired"
    link = SignInLink.objects.filter(pk=link_id).first()
    if link is None:
        return None, "expired"
    if link.used_at is not None:
        return None, "used"
    return link, None


@donor_page
@token_page
@require_http_methods(["GET", "POST"])
def sign_in_link(request, token):
    """The emailed link: a GET puts its token aside and shows the page without it."""
    if request.method == "GET":
        return _stash_token(request, "sign_in", token, "donors:sign_in_page")
    return _sign_in(request, token)


@donor_page
@require_http_methods(["GET", "POST"])
def sign_in(request):
    return _sign_in(request, _stashed_token(request, "sign_in"))


def _sign_in(request, token):
    """GET shows a button, POST uses the link: mail scanners that open links use nothing."""
    link, problem = _usable_link(token)
    if link is not None and request.method == "POST" and not link.use():
        link, problem = None, "used"
    if link is None:
        return render(request, "donors/link_invalid.html", {"problem": problem}, status=410)
    if request.method == "GET":
        return render(request, "donors/sign_in.html")
    _forget_token(request, "sign_in")
    request.session.cycle_key()
    request.session[SESSION_DONOR] = link.donor_id
    request.session[SESSION_SIGNED_IN_AT] = int(time.time())
    return redirect("donors:giving")


@donor_page
@require_POST
def sign_out(request):
    request.session.pop(SESSION_DONOR, None)
    request.session.pop(SESSION_SIGNED_IN_AT, None)
    messages.success(request, "You have signed out of your giving page.")
    return redirect("donors:request_link")


# Statuses of gifts a donor would recognise as "a gift I made" (not abandoned checkouts).
SHOWN_GIFT_STATUSES = (*Gift.PAID_STATUSES, Gift.Status.FAILED)


@donor_page
@donor_required
def giving(request, donor):
    gifts = figures.with_money(
        donor.gifts.filter(status__in=SHOWN_GIFT_STATUSES).select_related("project").order_by("-created_at")
    )
    monthly = (
        donor.recurring_gifts.exclude(status=RecurringGift.Status.INCOMPLETE)
        .select_related("project")
        .order_by("-created_at")
    )
    return render(
        request,
        "donors/giving.html",
        {
            "donor": donor,
            "gifts": gifts,
            "monthly_gifts": monthly,
            "simulated": settings.SIMULATED_CHECKOUT,
            "statement_years": figures.statement_years(donor),
            "preferences_url": reverse("donors:preferences", args=[links.preferences_token(donor)]),
        },
    )


@donor_page
@donor_required
def receipt(request, donor, public_id):
    gift = get_object_or_404(
        Gift.objects.select_related("project"),
        public_id=public_id,
        donor=donor,
        status__in=Gift.PAID_STATUSES,
    )
    return render(request, "donors/receipt.html", emails.receipt_context(gift))


@donor_page
@donor_required
def statement(request, donor, year):
    """A year's statement, as emailed at the year's end, to print or save as a PDF."""
    context = emails.statement_context(donor, year)
    if not context["rows"]:
        raise Http404("No gifts that year.")
    return render(request, "donors/statement.html", context)


@donor_page
@donor_required
def statement_csv(request, donor, year):
    """The same statement as a spreadsheet: one row a gift, what it gave net."""
    gifts, _totals = figures.statement(donor, year)
    if not gifts:
        raise Http404("No gifts that year.")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="podari-giving-{year}.csv"'
    writer = csv.writer(response)
    writer.writerow(["date", "receipt", "project", "amount", "currency"])
    for gift in gifts:
        writer.writerow(
            [
                timezone.localtime(gift.paid_at).date().isoformat(),
                emails.receipt_number(gift),
                gift.project.title,
                to_major(gift.money.given_minor, gift.currency),
                gift.currency.upper(),
            ]
        )
    return response


def _own_monthly_gift(donor, public_id):
    return get_object_or_404(
        RecurringGift.objects.select_related("project"),
        public_id=public_id,
        donor=donor,
        status__in=[RecurringGift.Status.ACTIVE, RecurringGift.Status.PAST_DUE],
    )


@donor_page
@require_POST
@donor_required
def billing_portal(request, donor, public_id):
    """Stripe's Customer Portal, where the donor updates their card or cancels."""
    recurring = _own_monthly_gift(donor, public_id)
    customer = recurring.stripe_customer_id or donor.stripe_customer_id
    if settings.SIMULATED_CHECKOUT or not customer:
        raise Http404("No Stripe customer for this monthly gift.")
    return_url = emails.absolute(reverse("donors:giving"))
    try:
        url = stripe_gateway.create_billing_portal_session(customer, return_url)
    except stripe_gateway.StripeUnavailable:
        logger.exception("Could not open the Stripe customer portal for monthly gift %s", recurring.pk)
        messages.error(request, "We could not reach our payment processor. Please try again in a minute.")
        return redirect("donors:giving")
    return HttpResponseRedirect(url, status=303)


UNREACHABLE = "We could not reach our payment processor. Nothing changed; please try again."


class MonthlyAmountForm(forms.Form):
    """A new monthly amount, in the gift's currency, within the donate form's limits."""

    amount = forms.CharField(
        label="New amount each month",
        max_length=AMOUNT_CUSTOM_MAX_LENGTH,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "transaction-amount"}),
    )

    def __init__(self, *args, recurring, **kwargs):
        super().__init__(*args, **kwargs)
        self.recurring = recurring
        self.limits = gift_amounts(recurring.currency, monthly=True)
        low, high = self.limits.format(self.limits.min_minor), self.limits.format(self.limits.max_minor)
        self.fields["amount"].help_text = f"From {low} to {high}, in {self.limits.name}."

    def clean_amount(self):
        try:
            amount = parse_major_amount(self.cleaned_data["amount"], self.recurring.currency)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc
        if not (self.limits.min_minor <= amount <= self.limits.max_minor) or not is_chargeable(
            amount, self.recurring.currency
        ):
            raise forms.ValidationError(self.fields["amount"].help_text)
        if amount == self.recurring.amount_minor:
            raise forms.ValidationError("That is what you give now: enter another amount.")
        return amount


class PauseForm(forms.Form):
    months = forms.TypedChoiceField(
        label="Pause for",
        coerce=int,
        choices=[(n, f"{n} month{pluralize(n)}") for n in services.PAUSE_MONTHS],
        initial=1,
        widget=forms.RadioSelect,
    )


class CancelForm(forms.Form):
    reason = forms.CharField(
        label="Why are you cancelling?",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="It helps us to know; only our staff read it.",
    )


def _monthly_page(request, recurring, *, amount_form=None, pause_form=None, status=200):
    return render(
        request,
        "donors/monthly_gift.html",
        {
            "recurring": recurring,
            "amount_form": amount_form or MonthlyAmountForm(recurring=recurring),
            "pause_form": pause_form or PauseForm(),
            "simulated": settings.SIMULATED_CHECKOUT,
        },
        status=status,
    )


def _ask_stripe(request, recurring, change, done):
    """Ask Stripe for a change; the page shows it once Stripe's webhook confirms it."""
    try:
        change()
    except stripe_gateway.StripeUnavailable:
        logger.exception("Could not change monthly gift %s in Stripe", recurring.pk)
        messages.error(
            request, "We could not reach our payment processor. Nothing changed; please try again."
        )
        return redirect("donors:monthly_gift", recurring.public_id)
    messages.success(request, done)
    return redirect("donors:monthly_gift", recurring.public_id)


@donor_page
@donor_required
def monthly_gift(request, donor, public_id):
    """A monthly gift's own page: the next charge, and changing, pausing or cancelling it."""
    return _monthly_page(request, _own_monthly_gift(donor, public_id))


@donor_page
@require_POST
@donor_required
def change_monthly_amount(request, donor, public_id):
    recurring = _own_monthly_gift(donor, public_id)
    form = MonthlyAmountForm(request.POST, recurring=recurring)
    if not form.is_valid():
        return _monthly_page(request, recurring, amount_form=form, status=400)
    amount = form.cleaned_data["amount"]
    return _ask_stripe(
        request,
        recurring,
        lambda: services.change_monthly_amount(recurring, amount),
        f"From your next month on you give {format_money(amount, recurring.currency)} a month. "
        "This page shows it as soon as our payment processor confirms it.",
    )


@donor_page
@require_POST
@donor_required
def pause_monthly_gift(request, donor, public_id):
    recurring = _own_monthly_gift(donor, public_id)
    form = PauseForm(request.POST)
    if not form.is_valid():
        return _monthly_page(request, recurring, pause_form=form, status=400)
    months = form.cleaned_data["months"]
    return _ask_stripe(
        request,
        recurring,
        lambda: services.pause_monthly_gift(recurring, months),
        f"Your monthly gift is paused for {months} month{pluralize(months)}: nothing is charged until then.",
    )


@donor_page
@require_POST
@donor_required
def resume_monthly_gift(request, donor, public_id):
    recurring = _own_monthly_gift(donor, public_id)
    return _ask_stripe(
        request,
        recurring,
        lambda: services.resume_monthly_gift(recurring),
        "Your monthly gift is running again from the next month.",
    )


@donor_page
@require_http_methods(["GET", "POST"])
@donor_required
def cancel_monthly_gift(request, donor, public_id):
    """Cancelling, confirmed on a page of its own that first offers to lower or pause it."""
    recurring = _own_monthly_gift(donor, public_id)
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            reason = form.cleaned_data["reason"]
            services.cancel_monthly_gift(
                recurring, comment=f"Cancelled by the donor on the site. {reason}".strip()
            )
        except stripe_gateway.StripeUnavailable:
            logger.exception("Could not cancel monthly gift %s in Stripe", recurring.pk)
            messages.error(
                request, "We could not reach our payment processor. Nothing changed; please try again."
            )
            return redirect("donors:cancel_monthly_gift", recurring.public_id)
        messages.success(
            request,
            f"Your monthly gift to {recurring.project.title} is cancelled: nothing more will be charged. "
            "We have emailed you a confirmation.",
        )
        return redirect("donors:giving")
    lower = gift_amounts(recurring.currency, monthly=True).presets[0]
    return render(
        request,
        "donors/cancel_monthly.html",
        {
            "recurring": recurring,
            "form": form,
            "pause_form": PauseForm(),
            "lower_minor": lower if lower < recurring.amount_minor else None,
        },
    )


# Email preferences: reached from a signed link in every impact email.


def _donor_for_token(token):
    try:
        donor_id, tag = links.preferences_donor_id(token)
    except links.BadLink as exc:
        raise Http404("Not a valid link.") from exc
    donor = get_object_or_404(Donor, pk=donor_id)
    if tag is not None and tag != links.address_tag(donor.email):
        raise Http404("A link for an address this donor no longer has.")
    return donor


class PreferencesForm(forms.Form):
    wants_impact_emails = forms.BooleanField(
        required=False,
        label="Email me stories about what my gifts pay for",
        help_text="A few times a year, when we publish a story about a project you gave to.",
    )


@donor_page
@token_page
@require_http_methods(["GET", "POST"])
def preferences_link(request, token):
    if request.method == "GET":
        return _stash_token(request, "preferences", token, "donors:preferences_page")
    return _preferences(request, token)


@donor_page
@require_http_methods(["GET", "POST"])
def preferences(request):
    return _preferences(request, _stashed_token(request, "preferences"))


def _preferences(request, token):
    donor = _donor_for_token(token)
    form = PreferencesForm(request.POST or None, initial={"wants_impact_emails": donor.wants_impact_emails})
    if request.method == "POST" and form.is_valid():
        consent.change(
            donor, form.cleaned_data["wants_impact_emails"], method=ConsentChange.Method.PREFERENCES
        )
        messages.success(request, "Your email preferences are saved.")
        return redirect("donors:preferences_page")
    return render(request, "donors/preferences.html", {"form": form, "donor": donor})


@csrf_exempt  # RFC 8058: the mail program POSTs with no cookie or token; the signed link stands in.
@donor_page
@token_page
@require_http_methods(["GET", "POST"])
def unsubscribe_link(request, token):
    if request.method == "GET":
        # A person following the link, or a scanner: nothing changes until the button.
        return _stash_token(request, "preferences", token, "donors:unsubscribe_page")
    return _unsubscribe(request, token)


@donor_page
@require_http_methods(["GET", "POST"])
def unsubscribe(request):
    return _unsubscribe(request, _stashed_token(request, "preferences"))


def _unsubscribe(request, token):
    donor = _donor_for_token(token)
    if request.method == "POST":
        one_click = request.POST.get("List-Unsubscribe") == "One-Click"
        method = ConsentChange.Method.ONE_CLICK if one_click else ConsentChange.Method.UNSUBSCRIBE_LINK
        consent.change(donor, False, method=method)
        if one_click:
            return HttpResponse("Unsubscribed.", content_type="text/plain")
        return render(request, "donors/unsubscribed.html")
    return render(request, "donors/unsubscribe.html", {"donor": donor})


@donor_page
@token_page
@require_http_methods(["GET", "POST"])
def confirm_stories_link(request, token):
    if request.method == "GET":
        return _stash_token(request, "confirm_stories", token, "donors:confirm_stories_page")
    return _confirm_stories(request, token)


@donor_page
@require_http_methods(["GET", "POST"])
def confirm_stories(request):
    return _confirm_stories(request, _stashed_token(request, "confirm_stories"))


def _confirm_stories(request, token):
    """The link emailed after a gift asked for stories an unsubscribe had turned off. GET asks
    (a mail scanner's visit changes nothing); POST turns stories on, logged with this link."""
    try:
        email = Email.objects.select_related("donor", "gift").get(
            pk=links.confirm_stories_email_id(token), kind=Email.Kind.CONFIRM_STORIES
        )
    except (links.BadLink, Email.DoesNotExist):
        email = None
    if email is None or email.donor is None or email.donor.email != email.to:
        return render(request, "donors/confirm_stories.html", {"problem": "expired"}, status=410)
    if request.method == "POST":
        consent.change(
            email.donor, True, method=ConsentChange.Method.CONFIRMATION_LINK, gift=email.gift, email=email
        )
        _forget_token(request, "confirm_stories")
        return render(request, "donors/confirm_stories.html", {"confirmed": True})
    return render(request, "donors/confirm_stories.html", {})


# Your data: download it, or have it erased.


@donor_page
@require_POST
@donor_required
def request_data(request, donor):
    privacy.request_export(donor)
    messages.success(
        request,
        "We are putting your data together. In a few minutes we will email you a link to download it.",
    )
    return redirect("donors:giving")


@donor_page
@require_http_methods(["GET", "POST"])
@donor_required
def request_erasure(request, donor):
    """Explains what erasure keeps and removes; the button emails a link to confirm."""
    if request.method == "POST":
        privacy.request_erasure(donor)
        return render(request, "donors/erase_request.html", {"sent": True, "donor": donor})
    monthly = donor.recurring_gifts.filter(status__in=RecurringGift.RUNNING_STATUSES).select_related(
        "project"
    )
    return render(request, "donors/erase_request.html", {"donor": donor, "monthly_gifts": monthly})


@donor_page
@token_page
@require_GET
def data_link(request, token):
    return _stash_token(request, "data", token, "donors:data_page")


def _export_for(request):
    try:
        request_id = links.request_id(
            _stashed_token(request, "data"), links.EXPORT_SALT, settings.DATA_EXPORT_DAYS * 86400
        )
    except links.BadLink:
        return None
    return privacy.usable_export(request_id)


@donor_page
@require_GET
def data_page(request):
    export = _export_for(request)
    status = 200 if export is not None else 410
    return render(request, "donors/data.html", {"export": export}, status=status)


@donor_page
@require_GET
def data_download(request):
    export = _export_for(request)
    if export is None:
        return render(request, "donors/data.html", {"export": None}, status=410)
    response = HttpResponse(bytes(export.archive), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="my-data-{settings.SITE_NAME.lower()}.zip"'
    return response


@donor_page
@token_page
@require_GET
def erase_link(request, token):
    return _stash_token(request, "erase", token, "donors:erase_page")


@donor_page
@require_http_methods(["GET", "POST"])
def erase_page(request):
    """The emailed link's page: a button, so that a mail scanner opening the link erases nothing."""
    try:
        request_id = links.request_id(
            _stashed_token(request, "erase"), links.ERASURE_SALT, settings.DONOR_ERASURE_LINK_MAX_AGE_SECONDS
        )
    except links.BadLink:
        request_id = None
    erasure = (
        PrivacyRequest.objects.filter(
            pk=request_id,
            kind=PrivacyRequest.Kind.ERASURE,
            status=PrivacyRequest.Status.AWAITING_CONFIRMATION,
        ).first()
        if request_id
        else None
    )
    if erasure is None:
        return render(request, "donors/erase_confirm.html", {"problem": True}, status=410)
    if request.method == "POST":
        privacy.confirm_erasure(erasure)
        _forget_token(request, "erase")
        request.session.pop(SESSION_DONOR, None)
        request.session.pop(SESSION_SIGNED_IN_AT, None)
        return render(request, "donors/erase_confirm.html", {"done": True})
    return render(request, "donors/erase_confirm.html", {})
