from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.accounts.helpers import clear_shared_cache


@pytest.fixture(autouse=True)
def _fresh_shared_cache() -> Iterator[None]:
    """Rate-limit counters and used captchas must not leak from one test into the next."""
    clear_shared_cache()
    yield
    clear_shared_cache()
