from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "civility.ops"
    label = "ops"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Operations"

    def ready(self) -> None:
        from civility.ops import instrumentation

        instrumentation.install()
