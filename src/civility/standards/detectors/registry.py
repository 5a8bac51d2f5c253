"""The detector families the engine runs, in order. Each entry builds one detector."""

from __future__ import annotations

from collections.abc import Callable

from civility.standards.detectors import Detector
from civility.standards.policy import Policy

DETECTORS: list[Callable[[Policy], Detector]] = []
