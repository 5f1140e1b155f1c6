"""The demo's e-mail: a mail backend that stores what it 'sends', and the page that shows it (``/demo/inbox/``).

The demo has no mail server and must never reach a real address: every mail goes into
:class:`~blauweknop.portal.models.DemoInboxMessage` instead, so a visitor can see what a citizen would get.
The page exists only in the demo (``BLAUWEKNOP_DEMO``); it shows addresses masked, as anyone may open it.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from blauweknop.portal.models import DemoInboxMessage

SHOWN = 50  # the newest mails; the demo's inbox is for a look, not an archive


class DemoInboxBackend(BaseEmailBackend):
    """Django's mail backend for the demo and the tests: each message becomes a :class:`DemoInboxMessage`."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        """Store each message; how many were stored."""
        DemoInboxMessage.objects.bulk_create(
            DemoInboxMessage(to=", ".join(message.to), subject=message.subject, body=message.body)
            for message in email_messages
        )
        return len(email_messages)


def masked(address: str) -> str:
    """``jan@example.nl`` as ``j***@example.nl``: enough to tell mails apart, not to read the address."""
    local, at, domain = address.strip().rpartition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}"


def inbox(request: HttpRequest) -> HttpResponse:
    """The demo's sent mails, newest first, with masked addresses; 404 outside the demo."""
    if not settings.DEMO:
        raise Http404
    mails = [
        {
            "to": ", ".join(masked(address) for address in mail.to.split(",")),
            "subject": mail.subject,
            "body": mail.body,
            "sent_at": mail.sent_at,
        }
        for mail in DemoInboxMessage.objects.order_by("-sent_at", "-pk")[:SHOWN]
    ]
    return render(request, "portal/inbox.html", {"mails": mails, "shown": SHOWN})
