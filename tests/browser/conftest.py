"""Browser tests: pytest-playwright driving Debian's chromium (never `playwright install`).

Playwright's sync API runs an asyncio loop in the test thread; Django refuses ORM calls from
a thread with a running loop unless told otherwise, and the tests do use the ORM (to load
fixtures) while a page is open.
"""

from __future__ import annotations

import os
import shutil
import warnings
from typing import Any

import pytest

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = os.environ.get("CIVILITY_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_MISSING = not os.path.exists(CHROMIUM)
SKIP_REASON = (
    f"BROWSER TESTS SKIPPED: chromium not found at {CHROMIUM}. "
    "Install it with `apt-get install -y chromium` (.ci/run does)."
)
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.browser)
            if CHROMIUM_MISSING:
                item.add_marker(pytest.mark.skip(reason=SKIP_REASON))
    if CHROMIUM_MISSING and any(str(item.path).startswith(here) for item in items):
        warnings.warn(SKIP_REASON, stacklevel=1)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if CHROMIUM_MISSING:
        terminalreporter.write_sep("!", SKIP_REASON, red=True, bold=True)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": CHROMIUM_FLAGS,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": {"width": 1280, "height": 1000}, "locale": "en-GB"}
