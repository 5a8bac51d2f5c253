from django.apps import AppConfig


class DiscussionConfig(AppConfig):
    name = "civility.discussion"
    label = "discussion"
    default_auto_field = "django.db.models.BigAutoField"
