"""``civility worker`` and ``civility beat``: arguments, schedule, and the engine warm-up."""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from civility.ops.commands import beat, worker


def parse(module: Any, argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    module.register(parser)
    return parser.parse_args(argv)


def test_worker_options_become_celery_arguments() -> None:
    args = parse(
        worker,
        ["-c", "3", "--pool", "solo", "-Q", "moderation", "--max-tasks-per-child", "100"],
    )
    assert worker.celery_arguments(args) == [
        "worker",
        "--loglevel=INFO",
        "--pool=solo",
        "--concurrency=3",
        "--queues=moderation",
        "--max-tasks-per-child=100",
    ]


def test_worker_defaults_to_prefork_with_one_process_per_core() -> None:
    assert worker.celery_arguments(parse(worker, [])) == [
        "worker",
        "--loglevel=INFO",
        "--pool=prefork",
    ]


def test_beat_lists_the_schedule_without_a_broker(capsys: Any, settings: Any) -> None:
    assert beat.run(parse(beat, ["--list"])) == 0
    printed = capsys.readouterr().out
    assert "civility.discussion.moderate_stale_pending every 60" in printed
    assert "civility.accounts.purge_deleted_accounts" in printed


# Transactional: the warm-up closes stale connections, as a fresh worker process should.
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("lenient_policy")
def test_warm_engine_builds_the_active_policys_engine_once() -> None:
    from civility.discussion import engine as discussion_engine
    from civility.ops.worker_hooks import warm_engine

    assert warm_engine() >= 0
    loaded = discussion_engine._current
    assert loaded is not None
    warm_engine()
    assert discussion_engine._current is loaded  # a second warm-up reuses it


def test_worker_hooks_connect_to_the_right_celery_signal() -> None:
    from celery.signals import worker_init, worker_process_init

    from civility.ops import worker_hooks

    try:
        worker_hooks.connect("prefork")
        assert any("civility.warm_engine" in str(r[0]) for r in worker_process_init.receivers)
        worker_hooks.connect("solo")
        assert any("civility.warm_engine" in str(r[0]) for r in worker_init.receivers)
    finally:  # other tests start in-process workers: they must not warm up an engine
        worker_process_init.disconnect(dispatch_uid="civility.warm_engine")
        worker_init.disconnect(dispatch_uid="civility.warm_engine")
