from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in


class PortalConfig(AppConfig):
    name = "blauweknop.portal"
    verbose_name = "Burgerportaal"

    def ready(self) -> None:
        from blauweknop.portal import session

        # Every login, through the DigiD mock or real DigiD, gets a session with a fixed end.
        user_logged_in.connect(session.start, dispatch_uid="blauweknop.portal.session.start")
