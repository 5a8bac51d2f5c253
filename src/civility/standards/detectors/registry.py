"""The detector families the engine runs, in order: cheap ones first.

Each entry is the dotted path of a :class:`~civility.standards.detectors.Detector` subclass.
The order matters three times: cheap detectors run before the ones that need the full
sentence embedding; a cheap detector listed after an embedding detector runs after that one's
second stage (so it can read what it left in ``analysis.cache``); and when two families score
the same slug the later one wins.

Every family has landed, so the registry is *strict* (``STRICT = True``): a family that cannot
be loaded raises, in tests and in production, and can never silently turn a rule off. Only a
caller that asks for ``detector_factories(strict=False)`` (a tool inspecting a partial
checkout) gets the lenient form, which skips a family whose own module does not exist (and
logs it once); even then a module that exists but fails to import, or lacks its class, is a
bug and raises.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Callable

from civility.standards.detectors import Detector
from civility.standards.policy import Policy

logger = logging.getLogger(__name__)

# Cheap first: regular expressions and lexicons, then the cross-comment rules, then the
# families that read the sentence embedding. One exception, on purpose: profanity comes right
# after the learned family, because it combines its lexicon with the learned model's
# offensive-language head, which the learned family leaves in `analysis.cache`. (The engine
# runs a cheap family listed after an embedding family once that one's second stage is done;
# the lexicon match itself is still cheap, and the cascade is unaffected.)
DETECTOR_PATHS: tuple[str, ...] = (
    "civility.standards.detectors.privacy.PrivacyDetector",
    "civility.standards.detectors.links.MalwareLinkDetector",
    "civility.standards.detectors.style.ShoutingDetector",
    "civility.standards.detectors.foreign.ForeignLanguageDetector",
    "civility.standards.detectors.crowd.FlashMobDetector",
    "civility.standards.detectors.crowd.FloodDetector",
    "civility.standards.detectors.learned.LearnedDetector",
    "civility.standards.detectors.profanity.ProfanityDetector",
    "civility.standards.detectors.topic.OffTopicDetector",
)

# Every family has landed: missing ones are errors. (CIVILITY_STRICT_DETECTORS=1 also forces
# it, for checkouts that flip this back while a new family is being written.)
STRICT = True

DetectorFactory = Callable[[Policy], Detector]

_reported_missing: set[str] = set()


class DetectorImportError(ImportError):
    """A registered detector family cannot be loaded."""


def is_strict() -> bool:
    return STRICT or os.environ.get("CIVILITY_STRICT_DETECTORS", "") not in ("", "0", "false")


def _load(path: str, *, strict: bool) -> DetectorFactory | None:
    module_name, _, class_name = path.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        # Forgive only the family's own module being absent, never a missing dependency
        # inside it (that would hide a broken install).
        if exc.name != module_name or strict:
            raise
        if module_name not in _reported_missing:
            _reported_missing.add(module_name)
            logger.warning("detector family %s is not available yet; its rules score 0", path)
        return None
    factory = getattr(module, class_name, None)
    if factory is None:
        raise DetectorImportError(f"{module_name} has no {class_name}")
    if not (isinstance(factory, type) and issubclass(factory, Detector)):
        raise DetectorImportError(f"{path} is not a Detector subclass")
    return factory


def detector_factories(*, strict: bool | None = None) -> list[DetectorFactory]:
    """The factories of every available family, in registry order."""
    strict = is_strict() if strict is None else strict
    factories = [_load(path, strict=strict) for path in DETECTOR_PATHS]
    return [factory for factory in factories if factory is not None]


def missing_families() -> list[str]:
    """Dotted paths of the registered families whose module does not exist (yet)."""
    missing = []
    for path in DETECTOR_PATHS:
        module_name = path.rpartition(".")[0]
        try:
            importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            missing.append(path)
    return missing
