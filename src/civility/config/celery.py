"""The Celery application. Tasks run inline (eager) unless a broker is configured."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civility.config.settings")

app = Celery("civility")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
