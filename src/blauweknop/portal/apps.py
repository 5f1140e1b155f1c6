from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "blauweknop.portal"
    verbose_name = "Burgerportaal"
