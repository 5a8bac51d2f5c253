"""Running the same work in several threads at once, as racing workers would."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connections


def run_in_threads[T](work: Callable[[], T], count: int = 2) -> list[T]:
    """Run ``work`` in ``count`` threads at once and return what each returned (in the order
    they finished). Each thread closes its own database connections; an exception in any
    thread fails the calling test."""
    results: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(work())
        except BaseException as exc:  # reported to the test thread below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results
