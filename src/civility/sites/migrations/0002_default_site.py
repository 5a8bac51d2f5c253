"""The default site: every existing article, comment and policy belongs to it."""

from typing import Any

from django.conf import settings
from django.core.management.color import no_style
from django.db import migrations


def create_default_site(apps: Any, schema_editor: Any) -> None:
    site_model = apps.get_model("civility_sites", "Site")
    using = schema_editor.connection.alias
    site_id = settings.CIVILITY_DEFAULT_SITE_ID
    if site_model.objects.using(using).filter(pk=site_id).exists():
        return
    site_model.objects.using(using).create(pk=site_id, name="Civility", is_default=True)
    statements = schema_editor.connection.ops.sequence_reset_sql(no_style(), [site_model])
    for statement in statements:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("civility_sites", "0001_initial")]

    operations = [migrations.RunPython(create_default_site, migrations.RunPython.noop)]
