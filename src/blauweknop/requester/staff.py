"""The requester's staff log in with the shared staff login (:mod:`blauweknop.staff.login`): a password, then a
second factor.

A staff member is a user with a :class:`~blauweknop.requester.models.StaffMember` row; the staff pages are
under /vragers/ and every one of them says so when the scheme document suspends the staff's organisation.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from django.http import HttpRequest

from blauweknop.requester import tenants
from blauweknop.requester.models import StaffMember
from blauweknop.scheme.client import SchemeUnavailable, scheme_client
from blauweknop.staff.login import StaffLogin


def staff_member(user: Any) -> StaffMember | None:
    """The requester staff membership of ``user``, or ``None`` for anyone else."""
    return StaffMember.objects.select_related("requester").filter(user=user).first()


def suspended(staff: StaffMember) -> bool:
    """Whether the scheme document says the staff member's organisation may not ask for data now (suspended)."""
    try:
        tenants.of_oin(async_to_sync(scheme_client.current)(), staff.requester.oin)
    except tenants.NotHere as exc:
        return exc.code == "not_certified"
    except SchemeUnavailable:  # not known now; the pages that need the scheme document say so themselves
        return False
    return False


def _mark_suspended(request: HttpRequest, staff: StaffMember) -> None:
    request.staff_suspended = suspended(staff)


LOGIN = StaffLogin(
    namespace="requester",
    member=staff_member,
    home="requester:requests",
    base_template="requester/base.html",
    attribute="staff",
    on_page=_mark_suspended,
)

# A staff page: both factors, else the step still to do; sets ``request.staff`` and ``request.staff_suspended``.
staff_required = LOGIN.required
