"""The requester's staff log in with the shared staff login (:mod:`blauweknop.staff.login`): a password, then a
second factor.

A staff member is a user with a :class:`~blauweknop.requester.models.StaffMember` row; the staff pages are
under /vragers/ and every one of them says so when the scheme document suspends the staff's organisation.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from asgiref.sync import async_to_sync
from django.http import HttpRequest

from blauweknop.requester import tenants
from blauweknop.requester.models import StaffMember
from blauweknop.scheme.client import SchemeUnavailable, scheme_client
from blauweknop.staff.login import StaffLogin


def staff_member(user: Any) -> StaffMember | None:
    """The requester staff membership of ``user``, or ``None`` for anyone else."""
    return StaffMember.objects.select_related("requester").filter(user=user).first()


def suspension(staff: StaffMember) -> str | None:
    """Where the scheme operator is (the host of the scheme document's ``iss``) when the scheme document says the
    staff member's organisation may not ask for data now (suspended); ``None`` when it may, or when that is not known.
    The scheme document names no phone number or e-mail of the operator, so its address is what staff can go on."""
    try:
        scheme = async_to_sync(scheme_client.current)()
    except SchemeUnavailable:  # not known now; the pages that need the scheme document say so themselves
        return None
    try:
        tenants.of_oin(scheme, staff.requester.oin)
    except tenants.NotHere as exc:
        return urlsplit(scheme.iss).netloc if exc.code == "not_certified" else None
    return None


def _mark_suspended(request: HttpRequest, staff: StaffMember) -> None:
    request.staff_suspended = suspension(staff)


LOGIN = StaffLogin(
    namespace="requester",
    member=staff_member,
    home="requester:requests",
    base_template="requester/base.html",
    attribute="staff",
    on_page=_mark_suspended,
)

# A staff page: both factors, else the step still to do; sets ``request.staff`` and ``request.staff_suspended``
# (the scheme operator's host while the organisation is suspended, else ``None``).
staff_required = LOGIN.required
