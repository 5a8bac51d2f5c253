"""Warm a web process before its first request (gunicorn's ``post_worker_init``).

Django loads most of the site lazily: the URLconf (and with it every view module, the API and
its schemas) on the first request that is not a read-cache hit, each template on its first
render, each language's catalogue on its first activation, and Celery opens its broker
connection on the first publish. In a fresh gunicorn worker the first post paid all of that:
1.3 s of CPU in the load benchmark (1.2 s of it imports), 1.2-5.4 s of wall time on two busy
cores, once per worker, which alone made the post p99 of a one-minute run. Each step here is
what that request would do anyway, done before the worker accepts one; a step that fails
(broker down at start) is left to the first request, as before.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable

logger = logging.getLogger("civility.ops.warmup")

# Templates a hot path renders: the comment section (read cache misses), one comment (the
# JSON answer of a form post) and a signed-in reader's one reply and report form a page.
TEMPLATES = (
    "discussion/_section.html",
    "discussion/_comment.html",
    "discussion/_action_forms.html",
)


def _load_urlconf() -> None:
    from django.urls import get_resolver

    resolver = get_resolver()
    # Importing every URL module imports the views and the API (ninja builds its schemas).
    list(resolver.url_patterns)
    resolver.reverse_dict  # noqa: B018 (built on first reverse())


def _load_templates() -> None:
    from django.template.loader import get_template

    for name in TEMPLATES:
        get_template(name)


def _load_catalogues() -> None:
    from django.conf import settings
    from django.utils import translation

    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            translation.gettext("Comments")


def _connect_broker() -> None:
    """Open the connection that the first ``task.delay`` would open, and return it to the
    producer pool, where that publish finds it."""
    from civility.discussion.services import broker_configured

    if not broker_configured():
        return
    from civility.config.celery import app
    from civility.discussion import tasks  # noqa: F401 (the task module and what it imports)

    # What ``send_task`` reaches for on its first call (each loads its modules once).
    app.finalize(auto=True)
    app.amqp  # noqa: B018
    app.backend  # noqa: B018
    importlib.import_module("celery.events.dispatcher")
    importlib.import_module("celery.contrib.django.task")
    with app.producer_or_acquire() as producer:
        producer.connection.ensure_connection(max_retries=1, timeout=2)


STEPS: tuple[tuple[str, Callable[[], None]], ...] = (
    ("urlconf", _load_urlconf),
    ("templates", _load_templates),
    ("catalogues", _load_catalogues),
    ("broker", _connect_broker),
)


def warm_web_process() -> dict[str, float]:
    """Run every step; return the seconds each took (a failed step is logged and skipped)."""
    seconds: dict[str, float] = {}
    for name, step in STEPS:
        started = time.perf_counter()
        try:
            step()
        except Exception:  # the first request that needs it does it instead
            logger.exception("could not warm %s", name)
        seconds[name] = round(time.perf_counter() - started, 3)
    from django.db import close_old_connections

    close_old_connections()
    return seconds
