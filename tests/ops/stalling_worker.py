"""``python -m tests.ops.stalling_worker MARKER SECONDS [civility worker options]``

Runs ``civility worker`` with an engine that, on each real comment, writes the comment's id to
MARKER and then stalls for SECONDS before deciding: the fault tests kill it at that moment,
in the middle of a task. The warm-up check at start (a comment without an id) does not stall.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any


def main(argv: list[str]) -> int:
    marker, seconds, worker_options = Path(argv[0]), float(argv[1]), argv[2:]
    from civility.standards.engine import Engine

    original = Engine.check

    def stalling_check(self: Engine, comment: Any, context: Any = None) -> Any:
        if comment.id:
            marker.write_text(str(comment.id))
            time.sleep(seconds)
        return original(self, comment, context)

    Engine.check = stalling_check  # type: ignore[method-assign]
    from civility.cli import main as civility

    return civility(["worker", *worker_options])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
