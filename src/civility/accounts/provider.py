"""Register the social-login providers Civility offers (Facebook, Google, VK).

allauth's provider registry imports ``<app>.provider`` for every installed app and registers
its ``provider_classes``; listing them here spares config/settings.py three INSTALLED_APPS
entries. A provider is only *shown* when its credentials are configured (see conf.py).
"""

from __future__ import annotations

from allauth.socialaccount.providers.facebook.provider import FacebookProvider
from allauth.socialaccount.providers.google.provider import GoogleProvider
from allauth.socialaccount.providers.vk.provider import VKProvider

provider_classes = [GoogleProvider, FacebookProvider, VKProvider]
