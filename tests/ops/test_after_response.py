"""ops.after_response: work handed over by a post runs once its response is sent."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from civility.ops.after_response import AfterResponse, after_response, run_after_response


def test_outside_a_wrapped_request_the_work_runs_at_once() -> None:
    done: list[str] = []
    run_after_response(lambda: done.append("now"))
    assert done == ["now"]


class Body:
    def __init__(self, log: list[str]) -> None:
        self.log = log

    def __iter__(self) -> Iterator[bytes]:
        self.log.append("sent")
        yield b"created"

    def close(self) -> None:
        self.log.append("body closed")


def posting_application(log: list[str], *, fail: bool = False) -> Callable[..., Any]:
    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        def broken() -> None:
            raise RuntimeError("broker gone")

        run_after_response(lambda: log.append("published"))
        run_after_response(broken)
        run_after_response(lambda: log.append("after the failure"))
        if fail:
            raise RuntimeError("the view failed")
        start_response("201 Created", [])
        return Body(log)

    return application


def test_a_posts_work_runs_when_the_server_closes_its_response(caplog: Any) -> None:
    log: list[str] = []
    application = after_response(posting_application(log))
    assert after_response(application) is application
    body = application({"REQUEST_METHOD": "POST"}, lambda *args: None)
    assert log == []  # nothing before the response is written
    assert list(body) == [b"created"]
    assert log == ["sent"]
    body.close()  # the server has written the response
    assert log == ["sent", "body closed", "published", "after the failure"]
    assert "work after the response failed" in caplog.text
    run_after_response(lambda: log.append("later"))  # the request is over: at once
    assert log[-1] == "later"


def test_an_application_error_still_runs_the_work() -> None:
    log: list[str] = []
    application = AfterResponse(posting_application(log, fail=True))
    with pytest.raises(RuntimeError, match="the view failed"):
        application({"REQUEST_METHOD": "POST"}, lambda *args: None)
    assert log == ["published", "after the failure"]


def test_reads_pass_straight_through() -> None:
    log: list[str] = []
    application = AfterResponse(posting_application(log))
    # No queue of its own: the work runs at once, and its error is the caller's.
    with pytest.raises(RuntimeError, match="broker gone"):
        application({"REQUEST_METHOD": "GET"}, lambda *args: None)
    assert log == ["published"]
