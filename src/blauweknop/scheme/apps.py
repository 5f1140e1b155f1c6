from django.apps import AppConfig


class SchemeConfig(AppConfig):
    name = "blauweknop.scheme"
    verbose_name = "Stelsel"
