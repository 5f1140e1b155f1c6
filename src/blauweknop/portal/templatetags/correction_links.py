"""The data page's "Klopt dit niet?" link: where the correction form for one field is."""

from __future__ import annotations

from urllib.parse import urlencode

from django import template
from django.urls import reverse

from blauweknop.portal.corrections import place

register = template.Library()


@register.simple_tag
def correction_url(oin: str, type_id: str, concrete: str) -> str:
    """The correction form of the field at the concrete path ``concrete`` of ``type_id`` at holder ``oin``."""
    path, position = place(concrete)
    query = {"soort": type_id, "veld": path, **({"positie": position} if position is not None else {})}
    return f"{reverse('portal:correction', kwargs={'oin': oin})}?{urlencode(query)}"
