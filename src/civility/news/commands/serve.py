"""``civility serve``: migrate, load the demo content on an empty database, then serve.

The server is gunicorn (two threaded workers), not Django's development server: the same
server runs in production, static files come from whitenoise and nothing reloads behind the
user's back. ``--dev`` starts Django's auto-reloading development server instead.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import signal
import subprocess
import sys

from civility.cli import setup_django

PR_SET_PDEATHSIG = 1


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    parser.add_argument(
        "--workers", type=int, default=2, help="gunicorn worker processes (default 2)"
    )
    parser.add_argument(
        "--no-demo", action="store_true", help="do not load demo content on an empty database"
    )
    parser.add_argument(
        "--dev", action="store_true", help="Django's auto-reloading development server"
    )
    parser.add_argument(
        "--no-beat",
        action="store_true",
        help="with no broker, do not run the periodic jobs (purges, sweeper, digests) beside"
        " the server",
    )


def prepare(load_demo_when_empty: bool) -> None:
    """Migrate, collect static files in production, load the demo on an empty database."""
    from django.conf import settings
    from django.core.management import call_command

    from civility.news.demo_content import load_demo
    from civility.news.models import Article

    call_command("migrate", interactive=False, verbosity=0)
    if settings.PRODUCTION:
        call_command("collectstatic", interactive=False, verbosity=0)
    if load_demo_when_empty and not Article.objects.exists():
        load_demo()
        print("Loaded the demo articles.", flush=True)
        decided = _judge_demo_discussions_apart()
        if decided:
            from civility.news.commands.demo import describe_decisions

            print(f"Demo discussions: {describe_decisions(decided)}.", flush=True)


def _judge_demo_discussions_apart() -> dict[str, int]:
    """Load the demo discussions in a spawned process: the engine starts threads (the
    encoder's pool), and gunicorn forks its workers from this process, where a thread's lock
    held at the fork would hang a worker."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(_load_demo_discussions).result()


def _load_demo_discussions() -> dict[str, int]:
    setup_django()
    from civility.discussion.demo_content import load_demo_discussions

    return load_demo_discussions()


def run(args: argparse.Namespace) -> int:
    setup_django()
    from django.conf import settings

    from civility.news.commands.demo import print_demo_logins

    print(f"Data directory: {settings.DATA_DIR}")
    print("Applying migrations...", flush=True)
    prepare(load_demo_when_empty=not args.no_demo)
    print_demo_logins()
    url = f"http://{args.host}:{args.port}/"
    beat = start_inline_beat() if settings.CELERY_TASK_ALWAYS_EAGER and not args.no_beat else None
    print(f"Serving Civility on {url}  (Ctrl+C to stop)", flush=True)
    try:
        if args.dev:
            from django.core.management import call_command

            call_command("runserver", f"{args.host}:{args.port}")
            return 0
        serve_with_gunicorn(args.host, args.port, args.workers)
    finally:
        if beat is not None:
            beat.terminate()
    return 0


def start_inline_beat() -> subprocess.Popen[bytes]:
    """``civility beat`` as a child process: with no broker it runs the periodic jobs itself.
    A process apart from gunicorn's, so that its jobs (the sweeper may load the engine) never
    slow a request, and it dies with this one (PR_SET_PDEATHSIG) even if this one is killed."""

    def die_with_parent() -> None:
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)

    print("Periodic jobs (purges, sweeper, webhooks, digests) run in a `civility beat` process.")
    return subprocess.Popen(
        [sys.executable, "-m", "civility.cli", "beat"],
        preexec_fn=die_with_parent if sys.platform.startswith("linux") else None,
    )


def serve_with_gunicorn(host: str, port: int, workers: int) -> None:
    """Run gunicorn in this process, on the Django application already loaded here.

    The workers fork from this process, so Django is imported (and its bytecode compiled)
    once, not once per worker: the first page answers seconds sooner on a fresh install.
    """
    from django.core.wsgi import get_wsgi_application
    from django.db import connections
    from django.urls import get_resolver
    from gunicorn.app.base import BaseApplication

    application = get_wsgi_application()
    get_resolver().url_patterns  # noqa: B018  # imports every view now, once, before the fork
    connections.close_all()  # a connection must never be shared by forked workers

    options: dict[str, object] = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": 4,
        "accesslog": "-",
        "forwarded_allow_ips": "127.0.0.1",
        # gunicorn's control socket would live in ~/.gunicorn: state stays under the data dir.
        "control_socket_disable": True,
        # Readers paste whole paragraphs into search; the app truncates queries itself. 0 lifts
        # gunicorn's 4 KB request-line limit to its internal 1 MB cap, so a long query gets
        # search results rather than "414 URI Too Long".
        "limit_request_line": 0,
    }

    class CivilityServer(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for name, value in options.items():
                self.cfg.set(name, value)

        def load(self) -> object:
            return application

    CivilityServer().run()
