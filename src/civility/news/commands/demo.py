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


def run(args: argparse.Namespace) -> int:
    setup_django()
    from django.core.management import call_command

    from civility.news.demo_content import load_demo

    if not args.no_migrate:
        call_command("migrate", interactive=False, verbosity=0)
    added, accounts = load_demo()
    created = sum(1 for _, was_created in accounts if was_created)
    print(f"Demo content: {added} articles added, {created} accounts created.")
    print_demo_logins()
    return 0
