from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "civility.security"
    label = "security"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.apps import apps
        from django.conf import settings
        from django.db.models.signals import pre_save

        from civility.security import log_redaction, privacy

        if getattr(settings, "CIVILITY_LOG_REDACTION", True):
            log_redaction.install()
        # Addresses are pseudonymised before they are written (privacy.py explains why).
        for label in {label for label, _field, _stamp in privacy.STORED_IP_FIELDS}:
            pre_save.connect(
                privacy.pseudonymise_on_save,
                sender=apps.get_model(label),
                dispatch_uid=f"civility-security-ip-{label}",
            )
        if getattr(settings, "CIVILITY_NORMALISE_DISPLAY_NAMES", True):
            pre_save.connect(
                normalise_display_name_on_save,
                sender=apps.get_model(settings.AUTH_USER_MODEL),
                dispatch_uid="civility-security-display-name",
            )


def normalise_display_name_on_save(sender: object, instance: object, **kwargs: object) -> None:
    """Every stored display name is normalised (invisible and direction characters removed)."""
    from civility.security.validators import normalise_display_name

    name = getattr(instance, "display_name", None)
    if name:
        instance.display_name = normalise_display_name(name)  # type: ignore[attr-defined]
