"""A participant's certification through its life: applied, certified, suspended, certified again, revoked.

An application waits apart from the participants (:class:`blauweknop.scheme.models.Application`): certifying it
makes the participant and registers its key; refusing it leaves the OIN, slug and key free for whoever else applies.
Each step is one transaction: the new state, its entry in the audit trail, and the scheme document that says it
to everyone (a refused application was never in it, so nothing is published then). Either all three happen or
none: an operator never sees a step in the trail that the scheme document does not carry, nor the other way round.
Every other role learns the step with its next refresh of the scheme document (``blauweknop.scheme.client``).
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from blauweknop.db import lock_name, write_transaction
from blauweknop.scheme import audit, keys, publication
from blauweknop.scheme.applications import APPLICANT, LOCK
from blauweknop.scheme.models import Application, Organisation

Certification = Organisation.Certification


class TransitionRefused(Exception):
    """The step cannot be taken; ``code`` says why (not_found, not_allowed, reason_required), ``message`` in words."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# The steps on an application waiting: it becomes a participant, or is turned down.
APPLICATION_STEPS = ("certified", "refused")
# Action code -> (the states it starts from, the state it ends in). Revoked is final: no step leaves it.
STEPS: dict[str, tuple[frozenset[str], str]] = {
    "suspended": (frozenset({Certification.CERTIFIED}), Certification.SUSPENDED),
    "restored": (frozenset({Certification.SUSPENDED}), Certification.CERTIFIED),
    "revoked": (frozenset({Certification.CERTIFIED, Certification.SUSPENDED}), Certification.REVOKED),
}


def certify(application_id: int, *, actor: str, reason: str) -> Organisation:
    """Admit a waiting application: its participant is made, certified, with its key, in the scheme document from now.

    Refused (``not_allowed``) when its OIN, slug or key became a participant's in the meantime (another application
    of the same OIN was certified first, say): nothing changes, and the operator refuses this one.
    """
    reason = _checked(reason)
    with write_transaction():
        # The same lock as storing an application: what is taken is looked at and written in one step.
        lock_name(LOCK)
        waiting = _waiting(application_id)
        if Organisation.objects.filter(oin=waiting.oin).exists():
            raise TransitionRefused("not_allowed", _("Er is al een deelnemer met dit OIN. Weiger deze aanmelding."))
        if Organisation.objects.filter(slug=waiting.slug).exists():
            message = _(
                "Het adresdeel %(slug)s is al van een andere deelnemer. Weiger deze aanmelding. De organisatie kan "
                "zich opnieuw aanmelden met een ander adresdeel."
            )
            raise TransitionRefused("not_allowed", message % {"slug": waiting.slug})
        organisation = waiting.as_participant()
        organisation.certified_since = timezone.localdate()
        organisation.save(force_insert=True)
        try:
            keys.add(waiting.oin, waiting.public_jwk, actor=APPLICANT)
        except keys.KeyRefused as exc:
            raise TransitionRefused("not_allowed", exc.message) from None
        _decided(waiting, Application.State.CERTIFIED)
        details = {"aanmelding": waiting.pk, "from": Certification.APPLIED, "to": Certification.CERTIFIED}
        audit.record(actor=actor, action="certified", subject=waiting.oin, reason=reason, details=details)
        publication.publish()
    return organisation


def refuse(application_id: int, *, actor: str, reason: str) -> Application:
    """Turn a waiting application down: its OIN, slug and key stay free, it was never in a scheme document."""
    reason = _checked(reason)
    with write_transaction():
        lock_name(LOCK)
        waiting = _waiting(application_id)
        _decided(waiting, Application.State.REFUSED)
        details = {"aanmelding": waiting.pk, "kid": waiting.kid}
        audit.record(actor=actor, action="refused", subject=waiting.oin, reason=reason, details=details)
    return waiting


def _waiting(application_id: int) -> Application:
    """The application ``application_id``, locked, if it still waits for a decision."""
    found = Application.objects.select_for_update().filter(pk=application_id).first()
    if found is None:
        raise TransitionRefused("not_found", _("Er is geen aanmelding met dit nummer."))
    if found.state != Application.State.WAITING:
        message = _("Dat kan niet. Over deze aanmelding is al besloten: %(state)s.")
        raise TransitionRefused("not_allowed", message % {"state": found.get_state_display()})
    return found


def _decided(application: Application, state: str) -> None:
    application.state, application.decided_at = state, timezone.now()
    application.save(update_fields=["state", "decided_at"])


def _checked(reason: str) -> str:
    try:
        return audit.checked_reason(reason)
    except audit.BadReason as exc:
        raise TransitionRefused("reason_required", str(exc)) from None


def suspend(oin: str, *, actor: str, reason: str) -> Organisation:
    """Stop a certified participant for now: everyone refuses it from their next refresh of the scheme document."""
    return _step(oin, "suspended", actor=actor, reason=reason)


def restore(oin: str, *, actor: str, reason: str) -> Organisation:
    """Certify a suspended participant again: everyone accepts it again from their next refresh."""
    return _step(oin, "restored", actor=actor, reason=reason)


def revoke(oin: str, *, actor: str, reason: str) -> Organisation:
    """Stop a participant for good: a revoked participant cannot be certified again, and keeps its OIN and slug."""
    return _step(oin, "revoked", actor=actor, reason=reason)


def allowed(organisation: Organisation) -> list[str]:
    """The action codes that can be taken on ``organisation`` now, in the order of ``STEPS``."""
    return [action for action, (sources, _target) in STEPS.items() if organisation.certification in sources]


def _step(oin: str, action: str, *, actor: str, reason: str) -> Organisation:
    reason = _checked(reason)
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
