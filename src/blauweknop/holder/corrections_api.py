"""``POST /<holder>/api/v1/correctieverzoeken``: a citizen's correction request, through their app manager."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["correctieverzoeken"])
