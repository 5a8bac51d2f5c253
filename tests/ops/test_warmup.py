"""A web process loads what its first request would load before it accepts one."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.django_db
def test_warming_a_web_process_runs_every_step(caplog: Any) -> None:
    from civility.ops.warmup import STEPS, warm_web_process

    seconds = warm_web_process()
    assert list(seconds) == [name for name, _step in STEPS]
    assert not [r for r in caplog.records if r.name == "civility.ops.warmup"]


@pytest.mark.django_db
def test_a_failing_step_is_left_to_the_first_request(monkeypatch: Any, caplog: Any) -> None:
    from civility.ops import warmup

    def broken() -> None:
        raise ConnectionError("broker down")

    monkeypatch.setattr(warmup, "STEPS", (("broker", broken), *warmup.STEPS[:1]))
    assert list(warmup.warm_web_process()) == ["broker", "urlconf"]
    assert "could not warm broker" in caplog.text
