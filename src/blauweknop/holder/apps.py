from django.apps import AppConfig


class HolderConfig(AppConfig):
    name = "blauweknop.holder"
    verbose_name = "Gegevenshouder"
