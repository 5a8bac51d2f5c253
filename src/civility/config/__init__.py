"""Project configuration. Importing the Celery app here makes ``.delay()`` in the web process
use Civility's broker settings instead of Celery's default app (amqp://localhost)."""

from civility.config.celery import app as celery_app

__all__ = ["celery_app"]
