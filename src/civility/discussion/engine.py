"""One moderation engine per process, rebuilt when the active policy changes.

Building an :class:`Engine` loads its detectors (and their models), so it is done once per
policy version, not per comment. Web processes and Celery workers each hold their own.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass

from civility.standards.engine import Engine
from civility.standards.policy import Policy


@dataclass(frozen=True)
class EngineSet:
    policy: Policy
    full: Engine
    # The cheap, deterministic detectors only (lexicons, links, style, crowd rules): run
    # inline before the response when the full engine runs in a worker.
    screen: Engine
    premoderate_all: bool


_lock = threading.Lock()
_current: EngineSet | None = None


def _screen_engine(full: Engine) -> Engine:
    screen = copy.copy(full)
    screen.detectors = [d for d in full.detectors if not d.uses_embedding]
    screen._needs_embedding = False
    return screen


def current_policy() -> tuple[Policy, bool]:
    """The active policy and whether the whole site is pre-moderated (a database read; builds
    no engine, so it works even while a detector cannot load)."""
    from civility.moderation.selectors import active_policy

    policy, version = active_policy()
    return policy, bool(version and version.premoderate_all)


def current_engines() -> EngineSet:
    """The engines for the active policy (one database read to learn which it is)."""
    global _current
    policy, premoderate_all = current_policy()
    engines = _current
    if engines is not None and engines.policy.version == policy.version:
        if engines.premoderate_all != premoderate_all:
            engines = EngineSet(policy, engines.full, engines.screen, premoderate_all)
            _current = engines
        return engines
    with _lock:
        if _current is None or _current.policy.version != policy.version:
            full = Engine(policy)
            _current = EngineSet(policy, full, _screen_engine(full), premoderate_all)
        return _current


def engine_for(policy: Policy) -> Engine:
    """A throwaway engine for a draft policy (Replay)."""
    return Engine(policy)
