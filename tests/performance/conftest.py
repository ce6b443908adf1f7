import time
from types import SimpleNamespace

import pytest

from podari import page_cache


@pytest.fixture
def let_gift_lag_pass(monkeypatch, settings):
    """Move the page cache's clock past the time a stored page may lag new gifts."""

    def let_pass():
        later = time.time() + settings.PAGE_CACHE_GIFTS_LAG_SECONDS + 0.1
        monkeypatch.setattr(page_cache, "time", SimpleNamespace(time=lambda: later))

    return let_pass
