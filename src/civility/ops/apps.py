from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "civility.ops"
    label = "ops"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Operations"

    def ready(self) -> None:
        # The tasks are @shared_task: they publish through the *current* Celery app. Unless
        # civility.config.celery is imported, a web process has none, and Celery's fallback
        # app sends every task to amqp://localhost instead of the configured broker.
        import civility.config.celery  # noqa: F401
        from civility.ops import instrumentation

        instrumentation.install()
        self._invalidate_reads_on_comment_changes()

    @staticmethod
    def _invalidate_reads_on_comment_changes() -> None:
        from django.db.models.signals import post_delete, post_save

        from civility.discussion.models import Comment
        from civility.ops.readcache import note_comment_saved

        post_save.connect(note_comment_saved, sender=Comment, dispatch_uid="ops.readcache.save")
        post_delete.connect(note_comment_saved, sender=Comment, dispatch_uid="ops.readcache.delete")
