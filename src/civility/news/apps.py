from __future__ import annotations

import importlib
from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate


def ensure_sqlite_search_index(using: str = "default", **_: Any) -> None:
    """Reinstall the FTS5 triggers when a migration rebuilt news_article and dropped them.

    SQLite has no ALTER for most column changes, so Django rebuilds the table to alter it and
    the triggers go with the old table. Checking after every migrate keeps search right
    whatever later migration touches the table.
    """
    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    index = importlib.import_module("civility.news.migrations.0002_search_index")
    expected = {"news_article_fts_insert", "news_article_fts_delete", "news_article_fts_update"}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'news_article'"
        )
        present = {row[0] for row in cursor.fetchall()}
        if expected <= present:
            return
        for statement in index.SQLITE_INSTALL:
            cursor.execute(statement)


class NewsConfig(AppConfig):
    name = "civility.news"
    label = "news"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        post_migrate.connect(ensure_sqlite_search_index, sender=self)
