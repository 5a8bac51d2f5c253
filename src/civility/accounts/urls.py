from django.urls import path

from civility.accounts import views

app_name = "accounts"
urlpatterns = [
    path("", views.account_home, name="home"),
    path("display-name/", views.display_name, name="display_name"),
    path("captcha/challenge/", views.captcha_challenge, name="captcha_challenge"),
    path("standards/", views.standards, name="standards"),
    path("privacy/", views.privacy, name="privacy"),
    path("privacy/consent/", views.privacy_consent, name="consent"),
    path("delete/", views.delete_account, name="delete"),
    path("deleted/", views.account_deleted, name="deleted"),
    path("restore/<str:token>/", views.restore_account, name="restore"),
    path("data/", views.my_data, name="my_data"),
    path("data/download/", views.download_my_data, name="download_my_data"),
]
