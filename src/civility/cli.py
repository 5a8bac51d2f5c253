"""The ``civility`` command.

Each subcommand lives in the app that owns it, as a module exposing
``register(parser: argparse.ArgumentParser) -> None`` and ``run(args: argparse.Namespace) -> int``.
Modules are imported only when their subcommand runs, so ``civility moderate`` never loads Django.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

# name -> (module, one-line help). Order is the order shown in --help.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "serve": (
        "civility.news.commands.serve",
        "Migrate, load demo content on an empty database, serve.",
    ),
    "demo": ("civility.news.commands.demo", "Load the demo articles and accounts (idempotent)."),
    "import-articles": (
        "civility.news.commands.import_articles",
        "Import articles from JSON lines or RSS/Atom.",
    ),
    "createuser": (
        "civility.accounts.commands.createuser",
        "Create a verified account that can sign in at once.",
    ),
    "moderate": (
        "civility.standards.cli.moderate",
        "Run the moderation engine over JSONL or one --text.",
    ),
    "evaluate": ("civility.standards.cli.evaluate", "Score the engine on labelled JSONL datasets."),
    "train": (
        "civility.standards.training.cli",
        "Rebuild the shipped models from the shared datasets.",
    ),
    "purge-deleted": (
        "civility.accounts.commands.purge_deleted",
        "Purge accounts deleted more than 30 days ago.",
    ),
    "worker": (
        "civility.ops.commands.worker",
        "Run a Celery worker (loads the engine once per process).",
    ),
    "beat": (
        "civility.ops.commands.beat",
        "Run Celery beat: purges, the pending sweeper, digests.",
    ),
    "manage": ("civility.cli", "Run a Django management command (civility manage migrate ...)."),
}


def setup_django() -> None:
    """Configure Django once, for subcommands that need the ORM."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civility.config.settings")
    import django

    django.setup()


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "arguments", nargs=argparse.REMAINDER, help="management command and its arguments"
    )


def run(args: argparse.Namespace) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civility.config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["civility manage", *args.arguments])
    return 0


def build_parser(selected: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="civility", description="Civility: discussion platform with a local moderation engine."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, summary) in SUBCOMMANDS.items():
        command_parser = sub.add_parser(name, help=summary, description=summary)
        if name == selected:
            importlib.import_module(module_name).register(command_parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    selected = argv[0] if argv and argv[0] in SUBCOMMANDS else None
    parser = build_parser(selected)
    if not argv:
        parser.print_help()
        return 0
    args = parser.parse_args(argv)
    if selected is None:
        parser.print_help()
        return 2
    module = importlib.import_module(SUBCOMMANDS[selected][0])
    try:
        return int(module.run(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
