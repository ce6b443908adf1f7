"""The giving fixtures, for security tests that go through the donate form and webhooks."""

from tests.donations.conftest import checkout_session, donate, stripe_event  # noqa: F401  (shared fixtures)
