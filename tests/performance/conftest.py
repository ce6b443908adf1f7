import time
from types import SimpleNamespace

import pytest

from podari import page_cache


@pytest.fixture
def page_cache_on(settings):
    settings.PAGE_CACHE_ENABLED = True


@pytest.fixture
def charity_facts(db):
    """The charity's facts row, as migrations leave it. A transactional test's flush removes
    it, and the first page rendered would then create it, which itself invalidates pages."""
    from charity.models import Charity

    Charity.load()


@pytest.fixture
def let_gift_lag_pass(monkeypatch, settings):
    """Move the page cache's clock past the time a stored page may lag new gifts."""

    def let_pass():
        later = time.time() + settings.PAGE_CACHE_GIFTS_LAG_SECONDS + 0.1
        monkeypatch.setattr(page_cache, "time", SimpleNamespace(time=lambda: later))

    return let_pass
