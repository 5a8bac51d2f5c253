from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "civility.notifications"
    label = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from civility.notifications import signals

        signals.connect()
