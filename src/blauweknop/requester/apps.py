from django.apps import AppConfig


class RequesterConfig(AppConfig):
    name = "blauweknop.requester"
    verbose_name = "Gegevensvrager"
