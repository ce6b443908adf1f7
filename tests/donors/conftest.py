"""Fixtures for donors' emails and pages: donors with paid gifts, and mail backends that fail."""

import pytest
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend

from tests.conftest import image_upload
from tests.donations.conftest import (  # noqa: F401  (shared fixtures)
    checkout_session,
    donate,
    invoice_event,
    make_pending_gift,
    monthly_gift,
    session_completed,
    stripe_event,
)


@pytest.fixture
def make_project(make_project):
    """The shared factory with a small picture: renditions take time and these tests never look."""

    def make(**fields):
        fields.setdefault("image", image_upload("project.png", size=(160, 100)))
        return make_project(**fields)

    return make


@pytest.fixture
def make_donor(db):
    from donations.models import Donor

    def make(email="ada@example.com", *, consent=False, **fields):
        return Donor.objects.create(email=email, wants_impact_emails=consent, **fields)

    return make


@pytest.fixture
def paid_gift(make_gift):
    """paid_gift(project, donor, **fields): a gift Stripe confirmed, tied to its donor."""
    from django.utils import timezone

    def make(project, donor, **fields):
        fields.setdefault("donor_email", donor.email)
        fields.setdefault("paid_at", timezone.now())
        return make_gift(project, donor=donor, **fields)

    return make


class FlakyBackend(LocmemBackend):
    """Refuses the first `failures` messages (class-wide), then delivers to mail.outbox."""

    failures = 0

    def send_messages(self, messages):
        if FlakyBackend.failures > 0:
            FlakyBackend.failures -= 1
            raise ConnectionRefusedError("SMTP server not answering")
        return super().send_messages(messages)


@pytest.fixture
def flaky_mail(settings):
    """flaky_mail(n): the next n messages fail to send, the ones after are delivered."""
    settings.EMAIL_BACKEND = "tests.donors.conftest.FlakyBackend"

    def fail_next(n):
        FlakyBackend.failures = n

    yield fail_next
    FlakyBackend.failures = 0
