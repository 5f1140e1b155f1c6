"""The operator's staff log in with the shared staff login (:mod:`blauweknop.staff.login`): a password, then a
second factor (a TOTP code, or a passkey), with a lockout after repeated wrong passwords.

A member of the operator's staff is a user with an :class:`~blauweknop.scheme.models.OperatorMember` row; a
requester's staff member or a citizen is not, even when logged in with two factors. Every operator page is
decorated with :func:`operator_required`.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy

from blauweknop.scheme.models import OperatorMember
from blauweknop.staff.login import StaffLogin


def operator_member(user: Any) -> OperatorMember | None:
    """The operator staff membership of ``user``, or ``None`` for anyone else."""
    return OperatorMember.objects.select_related("user").filter(user=user).first()


LOGIN = StaffLogin(
    namespace="scheme",
    member=operator_member,
    home="scheme:home",
    base_template="scheme/base.html",
    attribute="operator",
    helper=gettext_lazy("een collega die het stelsel beheert"),  # as the footer says: the operator has no admin above
)

# An operator page: logged in with both factors as the operator's staff, else the login step still to do;
# sets ``request.operator`` (the OperatorMember).
operator_required = LOGIN.required
