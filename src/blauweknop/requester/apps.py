from django.apps import AppConfig
from django.core import checks


class RequesterConfig(AppConfig):
    name = "blauweknop.requester"
    verbose_name = "Gegevensvrager"

    def ready(self) -> None:
        from blauweknop.requester import presets  # here: the models must be ready first

        checks.register(presets.check_file)
