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
    _civility_conf.install_close_promptly()
