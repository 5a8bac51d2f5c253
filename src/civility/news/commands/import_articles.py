"""``civility import-articles FILE``: JSON lines or RSS/Atom, all or nothing."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from civility.cli import setup_django


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file", type=Path, help="a .jsonl file (one article per line) or an RSS/Atom feed"
    )
    parser.add_argument(
        "--site",
        default="",
        help="the site (language version) new articles belong to: its id, path prefix or "
        "domain (default: the default site)",
    )


def run(args: argparse.Namespace) -> int:
    setup_django()
    from tqdm import tqdm

    from civility.news.importer import ArticleImportError, import_records, parse_file

    path: Path = args.file
    site_id = None
    if args.site:
        from django.db.models import Q

        from civility.sites.models import Site

        condition = Q(path_prefix=args.site) | Q(domain=args.site)
        if args.site.isdigit():
            condition |= Q(pk=int(args.site))
        site_id = Site.objects.filter(condition).values_list("pk", flat=True).first()
        if site_id is None:
            print(f"civility import-articles: error: no site {args.site!r}", file=sys.stderr)
            return 1
    try:
        records = parse_file(path)
        result = import_records(
            records,
            site_id=site_id,
            progress=lambda items: tqdm(
                items, desc="Importing", unit="article", disable=len(records) < 50
            ),
        )
    except OSError as error:
        print(
            f"civility import-articles: error: cannot read {path}: {error.strerror}",
            file=sys.stderr,
        )
        return 1
    except ArticleImportError as error:
        print(
            f"civility import-articles: error: {path}: {error}. Nothing was imported.",
            file=sys.stderr,
        )
        return 1
    print(
        f"Imported {path}: {result.created} created, {result.updated} updated, "
        f"{result.unchanged} unchanged."
    )
    return 0
