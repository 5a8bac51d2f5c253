from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "civility.security"
    label = "security"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.conf import settings
        from django.db.models.signals import pre_save

        from civility.security import log_redaction, privacy

        if getattr(settings, "CIVILITY_LOG_REDACTION", True):
            log_redaction.install()
        # Addresses are pseudonymised before they are written (privacy.py explains why).
        from django.apps import apps

        for label in {label for label, _field, _stamp in privacy.STORED_IP_FIELDS}:
            pre_save.connect(
                privacy.pseudonymise_on_save,
                sender=apps.get_model(label),
                dispatch_uid=f"civility-security-ip-{label}",
            )
