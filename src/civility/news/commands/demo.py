"""``civility demo``: load the demo articles and accounts (idempotent)."""

from __future__ import annotations

import argparse

from civility.cli import setup_django


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-migrate", action="store_true", help="do not apply migrations first")


def print_demo_logins() -> None:
    from civility.news.demo_content import DEMO_ACCOUNTS

    print("Demo accounts (demo only: change or delete them before going public):")
    for account in DEMO_ACCOUNTS:
        role = "moderator" if account.moderator else "reader"
        print(f"  {role:<9}  e-mail: {account.email:<24} password: {account.password}")


def describe_decisions(decided: dict[str, int]) -> str:
    """ "33 comments judged by the engine: 23 published, 7 held for a moderator, 3 removed"."""
    parts = [
        f"{decided[status]} {label}"
        for status, label in (
            ("published", "published"),
            ("pending", "held for a moderator"),
            ("rejected", "removed"),
        )
        if decided.get(status)
    ]
    return f"{sum(decided.values())} comments judged by the engine: " + ", ".join(parts)


def run(args: argparse.Namespace) -> int:
    setup_django()
    from django.core.management import call_command

    from civility.discussion.demo_content import load_demo_discussions
    from civility.news.demo_content import load_demo

    if not args.no_migrate:
        call_command("migrate", interactive=False, verbosity=0)
    added, accounts = load_demo()
    created = sum(1 for _, was_created in accounts if was_created)
    print(f"Demo content: {added} articles added, {created} accounts created.")
    decided = load_demo_discussions()
    if decided:
        print(f"Demo discussions: {describe_decisions(decided)}.")
    print_demo_logins()
    return 0
