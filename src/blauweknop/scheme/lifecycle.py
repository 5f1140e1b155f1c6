"""A participant's certification through its life: applied, certified, suspended, certified again, revoked.

Each step is one transaction: the new state, its entry in the audit trail, and the scheme document
that says it to everyone. Either all three happen or none: an operator never sees a step in the
trail that the scheme document does not carry, nor the other way round. Every other role learns the
step with its next refresh of the scheme document (``blauweknop.scheme.client``).
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from blauweknop.db import write_transaction
from blauweknop.scheme import audit, publication
from blauweknop.scheme.models import Organisation

Certification = Organisation.Certification


class TransitionRefused(Exception):
    """The step cannot be taken; ``code`` says why (not_found, not_allowed, reason_required), ``message`` in words."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# Action code -> (the states it starts from, the state it ends in). Revoked is final: no step leaves it.
STEPS: dict[str, tuple[frozenset[str], str]] = {
    "certified": (frozenset({Certification.APPLIED}), Certification.CERTIFIED),
    "refused": (frozenset({Certification.APPLIED}), Certification.REVOKED),
    "suspended": (frozenset({Certification.CERTIFIED}), Certification.SUSPENDED),
    "restored": (frozenset({Certification.SUSPENDED}), Certification.CERTIFIED),
    "revoked": (frozenset({Certification.CERTIFIED, Certification.SUSPENDED}), Certification.REVOKED),
}


def certify(oin: str, *, actor: str, reason: str) -> Organisation:
    """Admit an applicant to the scheme: from now on it is in the scheme document, certified."""
    return _step(oin, "certified", actor=actor, reason=reason)


def refuse(oin: str, *, actor: str, reason: str) -> Organisation:
    """Turn an application down: the organisation ends revoked, and was never in a scheme document as certified."""
    return _step(oin, "refused", actor=actor, reason=reason)


def suspend(oin: str, *, actor: str, reason: str) -> Organisation:
    """Stop a certified participant for now: everyone refuses it from their next refresh of the scheme document."""
    return _step(oin, "suspended", actor=actor, reason=reason)


def restore(oin: str, *, actor: str, reason: str) -> Organisation:
    """Certify a suspended participant again: everyone accepts it again from their next refresh."""
    return _step(oin, "restored", actor=actor, reason=reason)


def revoke(oin: str, *, actor: str, reason: str) -> Organisation:
    """Stop a participant for good: a revoked participant cannot be certified again (it applies anew)."""
    return _step(oin, "revoked", actor=actor, reason=reason)


def allowed(organisation: Organisation) -> list[str]:
    """The action codes that can be taken on ``organisation`` now, in the order of ``STEPS``."""
    return [action for action, (sources, _target) in STEPS.items() if organisation.certification in sources]


def _step(oin: str, action: str, *, actor: str, reason: str) -> Organisation:
    try:
        reason = audit.checked_reason(reason)
    except audit.BadReason as exc:
        raise TransitionRefused("reason_required", str(exc)) from None
    sources, target = STEPS[action]
    with write_transaction():
        # Locked: two operators acting on one participant at once take turns, the second sees the first's step.
        organisation = Organisation.objects.select_for_update().filter(oin=oin).first()
        if organisation is None:
            raise TransitionRefused("not_found", _("Er is geen deelnemer met dit OIN."))
        before = organisation.certification
        if before not in sources:
            message = _("Dat kan niet. De deelnemer is nu %(state)s.") % {"state": Certification(before).label}
            raise TransitionRefused("not_allowed", message)
        organisation.certification = target
        if target == Certification.CERTIFIED and organisation.certified_since is None:
            organisation.certified_since = timezone.localdate()
        organisation.save(update_fields=["certification", "certified_since"])
        audit.record(actor=actor, action=action, subject=oin, reason=reason, details={"from": before, "to": target})
        publication.publish()
    return organisation
