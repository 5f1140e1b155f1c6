"""ASGI entry point: ``uvicorn blauweknop.asgi:application``.

Django, behind a limit on request bodies that refuses an oversized upload before Django reads it.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "blauweknop.settings")
django_application = get_asgi_application()

from blauweknop.limits import BodyLimit  # noqa: E402  (needs the settings loaded above)

application = BodyLimit(django_application)
