from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.accounts.helpers import clear_shared_cache


@pytest.fixture(autouse=True)
def _fresh_shared_cache() -> Iterator[None]:
    """The privacy policy in force is cached per language: no test may see another's."""
    clear_shared_cache()
    yield
    clear_shared_cache()
