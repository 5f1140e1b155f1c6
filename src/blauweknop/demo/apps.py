from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "blauweknop.demo"
    verbose_name = "Demo"
