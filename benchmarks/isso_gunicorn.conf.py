"""gunicorn settings for the Isso side of benchmarks/load.py: Civility's prompt close and
nothing else of Civility's configuration.

gunicorn (since 23) holds a sync worker after every response until the client closes, up to
2 s (deploy/gunicorn.conf.py: ``close_promptly``). Civility's workers close at once; Isso's get
the same patch so that the comparison measures the two applications, not that wait.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

_spec = importlib.util.spec_from_file_location(
    "civility_gunicorn_conf", Path(__file__).resolve().parent.parent / "deploy" / "gunicorn.conf.py"
)
assert _spec is not None and _spec.loader is not None
_civility_conf = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_civility_conf)


def post_worker_init(worker: Any) -> None:
    from gunicorn import util

    original = getattr(util, "close_graceful", None)  # gunicorn < 23 closes at once anyway
    if original is not None and original is not _civility_conf.close_promptly:
        setattr(_civility_conf, "graceful", original)  # noqa: B010 (a module loaded from a path)
        util.close_graceful = _civility_conf.close_promptly
