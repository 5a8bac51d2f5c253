from django.urls import path

from civility.security import views

app_name = "security"
urlpatterns = [
    path(".well-known/security.txt", views.security_txt, name="security_txt"),
    path(".well-known/csp-report", views.csp_report, name="csp_report"),
    path(
        "moderation/users/<int:pk>/personal-data/",
        views.reveal_personal_data,
        name="reveal_personal_data",
    ),
]
