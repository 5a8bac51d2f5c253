from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "civility.ops"
    label = "ops"
    default_auto_field = "django.db.models.BigAutoField"
