"""On PostgreSQL, the three moderation queue indexes carry the columns the queue's rule filter
reads (``INCLUDE (rule, fired_rules)``), so that a page's ids, filtered by rule or not, and a
filtered queue's count are read from the index alone (an index-only scan) instead of fetching a
table row for every comment the filter passes over. The indexes keep their names and key
columns: for Django's model state (and for SQLite, which has no INCLUDE) nothing changes."""

from typing import Any

from django.db import migrations

QUEUE_INDEXES = {
    "comment_site_queue": "site_id, status, created_at, id",
    "comment_site_decided": "site_id, status, decided_at, id",
    "comment_site_created": "site_id, created_at, id",
}


def _rebuild(schema_editor: Any, include: str) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, columns in QUEUE_INDEXES.items():
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
        schema_editor.execute(f"CREATE INDEX {name} ON discussion_comment ({columns}){include}")


def include_rule_columns(apps: Any, schema_editor: Any) -> None:
    _rebuild(schema_editor, " INCLUDE (rule, fired_rules)")


def drop_rule_columns(apps: Any, schema_editor: Any) -> None:
    _rebuild(schema_editor, "")


class Migration(migrations.Migration):
    dependencies = [("discussion", "0004_thread_top_index")]

    operations = [migrations.RunPython(include_rule_columns, drop_rule_columns)]
