"""One moderation engine per site and policy, per process, rebuilt when a policy changes.

Building an :class:`Engine` loads its detectors (and their models), so it is done once per
policy version, not per comment; sites whose effective policies are equal share one engine.
Web processes and Celery workers each hold their own.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from civility.standards.engine import Engine
from civility.standards.policy import Policy

if TYPE_CHECKING:
    from civility.sites.models import Site


@dataclass(frozen=True)
class EngineSet:
    policy: Policy
    full: Engine
    # The cheap, deterministic detectors only (lexicons, links, style, language): run inline
    # before the response when the full engine runs in a worker. They read no database.
    screen: Engine
    premoderate_all: bool


_lock = threading.Lock()
# Per site id, the engines of its active policy.
_by_site: dict[int, EngineSet] = {}
# The default site's engines (the process warm-up builds these).
_current: EngineSet | None = None


# The cross-comment rules read the recent comments (hundreds of rows, with their texts) for
# every comment: the worker's full engine runs them, once per batch (tasks.BatchContext).
# Inline, on every post, they cost several times what the other cheap rules cost together.
CROSS_COMMENT_RULES = frozenset({"flash_mob", "flood"})


def _screen_engine(full: Engine) -> Engine:
    screen = copy.copy(full)
    screen.detectors = [
        d
        for d in full.detectors
        if not d.uses_embedding and not CROSS_COMMENT_RULES.intersection(d.slugs)
    ]
    return screen


def current_policy(site: Site | int | None = None) -> tuple[Policy, bool]:
    """The site's active policy and whether the whole site is pre-moderated (a database read;
    builds no engine, so it works even while a detector cannot load). ``site`` None: the
    site of the current request, or the default site."""
    from civility.moderation.selectors import active_policy

    policy, version = active_policy(site)
    return policy, bool(version and version.premoderate_all)


def _same_policy(engine_policy: Policy, policy: Policy) -> bool:
    # Field by field first: Policy.version hashes the whole policy as JSON, about a
    # millisecond of CPU a post for the two of them, and equal fields mean an equal version.
    return engine_policy == policy or engine_policy.version == policy.version


def current_engines(
    site: Site | int | None = None, *, in_force: tuple[Policy, bool] | None = None
) -> EngineSet:
    """The engines for the site's active policy (one database read to learn which it is;
    none when the caller read ``in_force``, the site's :func:`current_policy`, already)."""
    from civility.moderation.selectors import policy_site

    global _current
    site_id = int(policy_site(site).pk)
    policy, premoderate_all = in_force if in_force is not None else current_policy(site_id)
    engines = _by_site.get(site_id)
    if engines is None or not _same_policy(engines.policy, policy):
        with _lock:
            engines = _by_site.get(site_id)
            if engines is None or not _same_policy(engines.policy, policy):
                engines = _shared_or_new(policy, premoderate_all)
                _by_site[site_id] = engines
    if engines.premoderate_all != premoderate_all:
        engines = EngineSet(policy, engines.full, engines.screen, premoderate_all)
        _by_site[site_id] = engines
    from civility.sites.current import default_site_id

    if site_id == default_site_id():
        _current = engines
    return engines


def _shared_or_new(policy: Policy, premoderate_all: bool) -> EngineSet:
    for other in _by_site.values():  # another site with the same effective policy
        if other.policy.version == policy.version:
            return EngineSet(policy, other.full, other.screen, premoderate_all)
    full = Engine(policy)
    return EngineSet(policy, full, _screen_engine(full), premoderate_all)


def engine_for(policy: Policy) -> Engine:
    """A throwaway engine for a draft policy (Replay)."""
    return Engine(policy)
