"""Full-text search index, one per database engine, behind civility.news.search.

SQLite: an FTS5 table over (headline, lead, body_text), kept in step by triggers, so
raw SQL and queryset.update() keep it right as well as Model.save().
PostgreSQL: a GIN index over the weighted tsvector expression that search.py queries.

Django rebuilds a SQLite table to alter it, which drops its triggers: a later migration
that alters news_article drops them; news.apps.ensure_sqlite_search_index reinstalls
them after every migrate.
"""

from django.db import migrations

SQLITE_INSTALL = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS news_article_fts USING fts5("
    " headline, lead, body_text, content='news_article', content_rowid='id',"
    " tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER IF NOT EXISTS news_article_fts_insert AFTER INSERT ON news_article BEGIN"
    " INSERT INTO news_article_fts(rowid, headline, lead, body_text)"
    " VALUES (new.id, new.headline, new.lead, new.body_text); END",
    "CREATE TRIGGER IF NOT EXISTS news_article_fts_delete AFTER DELETE ON news_article BEGIN"
    " INSERT INTO news_article_fts(news_article_fts, rowid, headline, lead, body_text)"
    " VALUES ('delete', old.id, old.headline, old.lead, old.body_text); END",
    "CREATE TRIGGER IF NOT EXISTS news_article_fts_update AFTER UPDATE ON news_article BEGIN"
    " INSERT INTO news_article_fts(news_article_fts, rowid, headline, lead, body_text)"
    " VALUES ('delete', old.id, old.headline, old.lead, old.body_text);"
    " INSERT INTO news_article_fts(rowid, headline, lead, body_text)"
    " VALUES (new.id, new.headline, new.lead, new.body_text); END",
    "INSERT INTO news_article_fts(news_article_fts) VALUES ('rebuild')",
]
SQLITE_REMOVE = [
    "DROP TRIGGER IF EXISTS news_article_fts_insert",
    "DROP TRIGGER IF EXISTS news_article_fts_delete",
    "DROP TRIGGER IF EXISTS news_article_fts_update",
    "DROP TABLE IF EXISTS news_article_fts",
]
POSTGRES_INSTALL = [
    "CREATE INDEX IF NOT EXISTS news_article_search_gin ON news_article USING gin (("
    " setweight(to_tsvector('english'::regconfig, coalesce(headline, '')), 'A')"
    " || setweight(to_tsvector('english'::regconfig, coalesce(lead, '')), 'B')"
    " || setweight(to_tsvector('english'::regconfig, coalesce(body_text, '')), 'C')))",
]
POSTGRES_REMOVE = ["DROP INDEX IF EXISTS news_article_search_gin"]


def install(apps, schema_editor):
    statements = {"sqlite": SQLITE_INSTALL, "postgresql": POSTGRES_INSTALL}
    for statement in statements.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement)


def remove(apps, schema_editor):
    statements = {"sqlite": SQLITE_REMOVE, "postgresql": POSTGRES_REMOVE}
    for statement in statements.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("news", "0001_initial")]
    operations = [migrations.RunPython(install, remove)]
