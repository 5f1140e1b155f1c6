"""'Wie heeft mijn gegevens ingezien?': every read of the citizen's data, with who, what, when, why."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from blauweknop.audit.models import AccessRecord
from blauweknop.scheme import catalogue
from blauweknop.scheme.models import Organisation


@login_required
def access_log(request: HttpRequest) -> HttpResponse:
    """The access records about the logged-in citizen, newest first."""
    records = list(AccessRecord.objects.about(request.user.bsn)[:200])
    names = dict(Organisation.objects.values_list("oin", "name"))
    types = catalogue.document_types()
    entries = [
        {
            "record": r,
            "holder": names.get(r.holder_oin, r.holder_oin),
            "actor": names.get(r.actor_oin, r.actor_oin),
            "document": types[r.document_type].name if r.document_type in types else {"nl": r.document_type},
        }
        for r in records
    ]
    return render(request, "portal/access_log.html", {"entries": entries})
