from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "civility.security"
    label = "security"
    default_auto_field = "django.db.models.BigAutoField"
