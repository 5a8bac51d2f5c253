from django.urls import path

from civility.notifications import views

app_name = "notifications"
urlpatterns = [
    path("", views.notification_settings, name="settings"),
    path("service-worker.js", views.service_worker, name="service_worker"),
    path("push/key/", views.vapid_public_key, name="vapid_public_key"),
    path("push/subscribe/", views.subscribe, name="subscribe"),
    path("push/unsubscribe/", views.unsubscribe, name="unsubscribe"),
]
