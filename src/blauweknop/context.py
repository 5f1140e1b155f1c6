"""What every page may know about the deployment it runs in."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def deployment(request: HttpRequest) -> dict[str, bool]:
    """``demo``: the pages say that everyone in them is made up, only in the demo."""
    return {"demo": settings.DEMO}
