from django.apps import AppConfig


class SitesConfig(AppConfig):
    name = "civility.sites"
    # django.contrib.sites (which allauth needs) already holds the label "sites".
    label = "civility_sites"
    verbose_name = "Sites and language versions"
