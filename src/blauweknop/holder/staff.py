"""The holder's staff log in with the shared staff login (:mod:`blauweknop.staff.login`): a password, then a
second factor (a TOTP code, or a passkey), with a lockout after repeated wrong passwords.

A member of a holder's staff is a user with a :class:`~blauweknop.holder.models.HolderStaffMember` row; a citizen,
a requester's staff member or the operator's staff is not, even when logged in with two factors. The staff pages
are under /gegevenshouder/beheer/ and show the organisation's name as the scheme document gives it (its OIN while
the scheme document cannot be had).
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from django.http import HttpRequest

from blauweknop.holder.models import HolderStaffMember
from blauweknop.protocol.scheme_document import SchemeDocument
from blauweknop.scheme.client import SchemeUnavailable, scheme_client
from blauweknop.staff.login import StaffLogin


def holder_member(user: Any) -> HolderStaffMember | None:
    """The holder staff membership of ``user``, or ``None`` for anyone else."""
    return HolderStaffMember.objects.filter(user=user).first()


def current_scheme() -> SchemeDocument | None:
    """The scheme document now, or ``None`` when it cannot be had (the pages then name things by their codes)."""
    try:
        return async_to_sync(scheme_client.current)()
    except SchemeUnavailable:
        return None


def _name_organisation(request: HttpRequest, member: HolderStaffMember) -> None:
    scheme = current_scheme()
    participant = scheme.organisations.get(member.holder_oin) if scheme is not None else None
    request.holder_scheme = scheme
    request.holder_name = participant.name if participant is not None else member.holder_oin


LOGIN = StaffLogin(
    namespace="holderstaff",
    member=holder_member,
    home="holderstaff:queue",
    base_template="holder/base.html",
    attribute="holder_staff",
    on_page=_name_organisation,
)

# A holder staff page: both factors, else the step still to do; sets ``request.holder_staff`` (the
# HolderStaffMember), ``request.holder_scheme`` (or ``None``) and ``request.holder_name``.
holder_staff_required = LOGIN.required
