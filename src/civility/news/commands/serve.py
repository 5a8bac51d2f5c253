"""``civility serve``: migrate, load the demo content on an empty database, then serve.

The server is gunicorn (two threaded workers), not Django's development server: the same
server runs in production, static files come from whitenoise and nothing reloads behind the
user's back. ``--dev`` starts Django's auto-reloading development server instead.
"""

from __future__ import annotations

import argparse
import os
import sys

from civility.cli import setup_django


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


def prepare(load_demo_when_empty: bool) -> bool:
    """Migrate, collect static files in production, load the demo on an empty database.

    Returns True when the demo content was loaded now.
    """
    from django.conf import settings
    from django.core.management import call_command

    from civility.news.demo_content import load_demo
    from civility.news.models import Article

    call_command("migrate", interactive=False, verbosity=0)
    if settings.PRODUCTION:
        call_command("collectstatic", interactive=False, verbosity=0)
    if load_demo_when_empty and not Article.objects.exists():
        load_demo()
        return True
    return False


def run(args: argparse.Namespace) -> int:
    setup_django()
    from django.conf import settings

    from civility.news.commands.demo import print_demo_logins

    print(f"Data directory: {settings.DATA_DIR}")
    print("Applying migrations...", flush=True)
    if prepare(load_demo_when_empty=not args.no_demo):
        print("Loaded the demo articles.")
    print_demo_logins()
    url = f"http://{args.host}:{args.port}/"
    print(f"Serving Civility on {url}  (Ctrl+C to stop)", flush=True)
    if args.dev:
        from django.core.management import call_command

        call_command("runserver", f"{args.host}:{args.port}")
        return 0
    command = [
        sys.executable, "-m", "gunicorn", "civility.config.wsgi:application",
        "--bind", f"{args.host}:{args.port}",
        "--workers", str(args.workers),
        "--threads", "4",
        "--access-logfile", "-",
        "--forwarded-allow-ips", "127.0.0.1",
        # gunicorn's control socket would live in ~/.gunicorn: state stays under the data dir.
        "--no-control-socket",
        # Readers paste whole paragraphs into search; the app truncates queries itself. 0 lifts
        # gunicorn's 4 KB request-line limit to its internal 1 MB cap, so a long query gets
        # search results rather than "414 URI Too Long".
        "--limit-request-line", "0",
    ]  # fmt: skip
    sys.stdout.flush()
    # Replace this process, so signals (Ctrl+C, SIGTERM) reach gunicorn directly.
    os.execv(sys.executable, command)
