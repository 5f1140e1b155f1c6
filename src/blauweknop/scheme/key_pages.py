"""The operator's key pages: every key of the operator and of each participant, and adding or revoking one.

Adding and revoking each take a reason, then "Weet u het zeker?"; only then it happens, through
:mod:`blauweknop.scheme.keys` (the audit trail and a new scheme document in the same transaction).
Revoking the current key asks which next key takes over (or none): the operator chooses, because whoever
stole the current key may have announced next keys with it. A key is addressed by its row id, not its kid.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import formats, timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from blauweknop.protocol.jwk import public_jwk, thumbprint
from blauweknop.scheme import keys
from blauweknop.scheme.models import OPERATOR, Key, Organisation
from blauweknop.scheme.pages import ReasonForm
from blauweknop.scheme.staff import operator_required

ANCHOR = "sleutels-"  # an owner's section on the key list: its id, and the tag of a message about its keys
MAX_JWK_TEXT = 2000  # a public key as JSON is a few hundred characters
PRIVATE_PASTED = gettext_lazy(
    "U plakte ook het geheime deel van de sleutel. We bewaren het niet en laten het niet zien. Maar het is nu "
    "niet meer geheim: behandel deze sleutel als gelekt. Vraag de eigenaar een nieuw sleutelpaar te maken en "
    "alleen het publieke deel te sturen: wat het commando blauweknop keys public laat zien."
)


class RevokeForm(ReasonForm):
    """A reason; for a current key also its successor, and for the operator's the emergency confirmation."""

    # Chosen on purpose, never by default: an empty value is the choice "none", no value at all is no choice.
    successor = forms.ChoiceField(
        label=gettext_lazy("Welke sleutel neemt het over?"), widget=forms.RadioSelect, required=False
    )
    emergency = forms.BooleanField(
        label=gettext_lazy(
            "Nood: de oude sleutel is zeker in verkeerde handen. Ik neem de nieuwe sleutel nu al in gebruik. "
            "Ik weet dat deelnemers die hem nog niet hebben, het stelseldocument dan niet meer aannemen. "
            "Ik vraag hen hem meteen toe te voegen."
        ),
        required=False,
    )

    def __init__(self, *args: Any, key: Key, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if key.state != Key.State.CURRENT:
            del self.fields["successor"], self.fields["emergency"]
            return
        nexts = Key.objects.filter(owner=key.owner, state=Key.State.NEXT)
        choices = [(kid, kid) for kid in nexts.values_list("kid", flat=True)]
        if key.owner != OPERATOR:  # the operator's needs one: keys.revoke says so when there is none to choose
            del self.fields["emergency"]
            choices.append(("", _("Geen: de eigenaar heeft dan geen sleutel in gebruik")))
        self.fields["successor"].choices = choices

    def clean_successor(self) -> str | None:
        """The chosen next key's kid, or ``None`` for none; a choice must be made when there is one to make."""
        if self.fields["successor"].choices and self.data.get("successor") is None:
            raise forms.ValidationError(_("Kies welke sleutel het overneemt, of kies: geen."))
        return self.cleaned_data["successor"] or None


class NewKeyForm(ReasonForm):
    jwk = forms.CharField(
        label=gettext_lazy("Publieke sleutel (JWK)"),
        help_text=gettext_lazy(
            "Plak de publieke sleutel als JSON, met een sleutel-id (kid). Alleen P-256 of Ed25519. "
            "Geef nooit het geheime deel: dat blijft bij de eigenaar."
        ),
        max_length=MAX_JWK_TEXT,
        error_messages={
            "required": gettext_lazy("Plak de publieke sleutel."),
            "max_length": gettext_lazy("Dit is te lang voor een publieke sleutel."),
        },
        widget=forms.Textarea,
    )
    field_order = ["jwk", "reason"]

    def clean_jwk(self) -> dict[str, Any]:
        """The public key, checked here, before "Weet u het zeker?": a private key is refused and never shown back."""
        try:
            value = json.loads(self.cleaned_data["jwk"])
        except json.JSONDecodeError:
            raise forms.ValidationError(_("Dit is geen JSON. Plak de sleutel zoals u hem kreeg.")) from None
        if not isinstance(value, dict):
            raise forms.ValidationError(_("Een sleutel is één JSON-object, tussen { en }."))
        if public_jwk(value) != value:  # it had a private member (d, p, q, dp, dq, qi, oth, k)
            # The field is shown again empty: the page must not carry the secret part a second time.
            self.data = self.data.copy()
            self.data["jwk"] = ""
            raise forms.ValidationError(PRIVATE_PASTED)
        try:
            return keys.checked(value)
        except keys.KeyRefused as exc:
            raise forms.ValidationError(exc.message) from None


def _owner_name(owner: str) -> str:
    """Whose keys: the operator, or a participant by name; 404 for anyone else."""
    if owner == OPERATOR:
        return _("de beheerder van het stelsel")
    organisation = Organisation.objects.filter(oin=owner).first()
    if organisation is None:
        raise Http404
    return organisation.name


@operator_required
@require_GET
def key_list(request: HttpRequest) -> HttpResponse:
    """Every key, by owner: the operator first, then each participant."""
    by_owner: dict[str, list[Key]] = {}
    for key in Key.objects.order_by("owner", "-added_at", "-pk"):
        by_owner.setdefault(key.owner, []).append(key)
    # A message about one owner's keys is shown in that owner's section, where the page opens (_done).
    flashed = list(messages.get_messages(request))
    said = {message.extra_tags: message for message in flashed if message.extra_tags.startswith(ANCHOR)}
    names = [(OPERATOR, _owner_name(OPERATOR)), *Organisation.objects.order_by("name").values_list("oin", "name")]
    owners = [(owner, name, by_owner.get(owner, []), said.get(ANCHOR + owner)) for owner, name in names]
    others = [message for message in flashed if message.extra_tags not in said]
    return render(request, "scheme/keys.html", {"owners": owners, "messages": others})


def _done(request: HttpRequest, owner: str, message: str) -> HttpResponse:
    """Back to the key list, at the owner's section (one of many), with ``message`` there."""
    messages.info(request, message, extra_tags=ANCHOR + owner)
    return redirect(f"{reverse('scheme:keys')}#{ANCHOR}{owner}")


def _when(moment: datetime) -> str:
    return formats.date_format(timezone.localtime(moment), "j F Y, H:i")


def _after_revoking(owner: str, owner_name: str) -> str:
    """What happens now the owner's current key is revoked: who signs next, and from when."""
    current = Key.objects.filter(owner=owner, state=Key.State.CURRENT).first()
    if current is not None:
        return _("Vanaf nu ondertekent %(name)s met sleutel %(kid)s.") % {"name": owner_name, "kid": current.kid}
    waiting = Key.objects.filter(owner=owner, state=Key.State.NEXT).order_by("usable_from", "pk").first()
    if waiting is not None:
        return _(
            "%(name)s heeft nu geen sleutel in gebruik en kan niets ondertekenen. Sleutel %(kid)s gaat op "
            "%(when)s in gebruik."
        ) % {"name": capfirst(owner_name), "kid": waiting.kid, "when": _when(waiting.usable_from)}
    return _(
        "%(name)s heeft nu geen sleutel in gebruik en kan niets ondertekenen. Vraag de eigenaar om een nieuwe "
        "publieke sleutel en voeg die hier toe."
    ) % {"name": capfirst(owner_name)}


@operator_required
@require_http_methods(["GET", "POST"])
def add_key(request: HttpRequest, owner: str) -> HttpResponse:
    """A new key for ``owner``: published at once as next, in use after its notice."""
    context = {"owner": owner, "owner_name": _owner_name(owner), "notice": keys.notice(owner), "adding": True}
    form = NewKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        jwk, reason = form.cleaned_data["jwk"], form.cleaned_data["reason"]
        if request.POST.get("confirmed") != "ja":
            # Only what was checked goes on: the kid and thumbprint shown, the public key alone in the form.
            adding = {"kid": jwk["kid"], "thumbprint": thumbprint(jwk), "public": json.dumps(jwk)}
            return render(request, "scheme/key_confirm.html", {**context, "form": form, **adding})
        try:
            key = keys.add(owner, jwk, actor=request.user.get_username(), reason=reason)
        except keys.KeyRefused as exc:
            form.add_error("jwk", exc.message)
        else:
            done = _("De sleutel %(kid)s is toegevoegd voor %(name)s. Het staat in het logboek.") % {
                "kid": key.kid,
                "name": context["owner_name"],
            }
            if key.state == Key.State.CURRENT:
                done += " " + _("Het is de enige sleutel: hij is meteen in gebruik.")
            else:
                done += " " + _("Hij gaat op %(when)s in gebruik.") % {"when": _when(key.usable_from)}
            return _done(request, owner, done)
    return render(request, "scheme/key_step.html", {**context, "form": form})


@operator_required
@require_http_methods(["GET", "POST"])
def revoke_key(request: HttpRequest, owner: str, pk: int) -> HttpResponse:
    """Revoke a key at once: whatever it signed fails everywhere from the next refresh of the scheme document."""
    key = Key.objects.filter(owner=owner, pk=pk).exclude(state=Key.State.REVOKED).first()
    if key is None:
        raise Http404
    form = RevokeForm(request.POST or None, key=key)
    successors = Key.objects.filter(owner=owner, state=Key.State.NEXT).order_by("added_at", "pk")
    context = {
        "owner": owner,
        "owner_name": _owner_name(owner),
        "key": key,
        "adding": False,
        "choosing": "successor" in form.fields,
        "successors": successors,
        "operator_notice": keys.OPERATOR_NOTICE.days,
        "now": timezone.now(),
    }
    if request.method == "POST" and form.is_valid():
        chosen = form.cleaned_data.get("successor")
        emergency = form.cleaned_data.get("emergency", False)
        if request.POST.get("confirmed") != "ja":
            successor = successors.filter(kid=chosen).first() if chosen else None
            return render(
                request,
                "scheme/key_confirm.html",
                {**context, "form": form, "successor": successor, "emergency": emergency},
            )
        try:
            keys.revoke(
                owner,
                key.kid,
                actor=request.user.get_username(),
                reason=form.cleaned_data["reason"],
                successor=chosen,
                emergency=emergency,
            )
        except keys.KeyRefused as exc:
            form.add_error("successor" if "successor" in form.fields else "reason", exc.message)
        else:
            done = _("De sleutel %(kid)s is ingetrokken. Het staat in het logboek.") % {"kid": key.kid}
            if key.state == Key.State.CURRENT:
                done += " " + _after_revoking(owner, context["owner_name"])
            return _done(request, owner, done)
    return render(request, "scheme/key_step.html", {**context, "form": form})


urlpatterns: list[URLPattern] = [
    path("", key_list, name="keys"),
    path("<str:owner>/nieuw/", add_key, name="key_add"),
    path("<str:owner>/<int:pk>/intrekken/", revoke_key, name="key_revoke"),
]
