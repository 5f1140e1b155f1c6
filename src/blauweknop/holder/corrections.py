"""A citizen's correction requests at a holder (GDPR art. 16), and the holder staff's decisions on them.

The request comes in through the citizen's app manager with a session assertion, like every call
about a citizen, and is kept with the value the holder had then. Staff take it up, accept it (the
value they decide on goes to the source, and every earlier copy with the old data is superseded at
once), reject it with a reason, or extend the deadline once (GDPR art. 12(3)). A decision or an
extension marks ``notice_pending``: the holder's worker then tells the app manager there is news.
Every step is one transaction on the locked request: it happens entirely, or not at all.
"""

from __future__ import annotations

import calendar
import copy
import re
import secrets
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import Case, F, IntegerField, QuerySet, Value, When
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_tasks import task

from blauweknop import display, document_types, i18n
from blauweknop.attachments import Attachment
from blauweknop.db import lock_name, write_transaction
from blauweknop.display import CORRECTED, CORRECTION_ASKED, item_name
from blauweknop.document_types import DocumentType, Field
from blauweknop.holder import access, freshness, sessions
from blauweknop.holder.errors import HolderError, NotHere
from blauweknop.holder.models import CorrectionRequest
from blauweknop.holder.sources import source_adapter
from blauweknop.holder.tenants import Holder
from blauweknop.protocol.errors import InvalidInput
from blauweknop.protocol.scheme_document import SchemeDocument
from blauweknop.protocol.session_assertion import SessionAssertion
from blauweknop.protocol.text import plain
from blauweknop.pseudonyms import pseudonym
from blauweknop.scheme.client import scheme_client

MAX_PROPOSED = 500
MAX_EXPLANATION = 2000
MAX_REASON = 1000
MIN_REASON = 10  # a reason the citizen can act on takes a sentence, not "nee"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
END_OF_DAY = time(23, 59, 59)  # whole seconds: the API writes them out as they are
MAX_EXTENSION = 2  # months beyond the first: GDPR art. 12(3) allows three in all
# A kenmerk people can read out: no 0/O or 1/I to mix up; 32**8 of them, so a collision is rare, and retried.
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
PREFIX, LENGTH, TRIES = "CV-", 8, 5
OPEN = (CorrectionRequest.State.RECEIVED, CorrectionRequest.State.IN_PROGRESS)
# What the holder did, as its access records (and the citizen's overview) name it.
PURPOSES = {
    CORRECTION_ASKED: "De burger vraagt de eigen gegevens te verbeteren; de organisatie legt de huidige waarde vast.",
    CORRECTED: "De organisatie verbetert de gegevens op verzoek van de burger.",
}
LEGAL_BASIS = "verzoek-betrokkene"  # AVG art. 16: the citizen asks for their data to be corrected
MAX_OPEN = 5  # open requests of one citizen at one holder
MAX_PER_DAY = 10  # requests of one citizen at one holder in 24 hours
ATTACHMENT_KEPT = timedelta(days=90)  # after the decision: long enough to object to it
REMOVED = " (verwijderd)"  # after an attachment's name once its bytes are deleted
MAX_DIGITS = 13  # before the decimal separator: ten thousand billion euros
MAX_EXACT = 2**53 - 1  # the largest integer every JSON reader reads exactly (RFC 7493)
# Groups of three take one and the same separator: "1.234,567" is no amount of over a million.
_AMOUNT = re.compile(r"(-?)(\d{1,3}([.,])\d{3}(?:\3\d{3})*|\d+)(?:([.,])(\d+))?")
_DUTCH_DATE = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
FAR_OFF = 10  # an amount this many times more, or less, than the one in the source now is worth a second look
_BOOLEANS = {"ja": True, "yes": True, "true": True, "nee": False, "no": False, "false": False}


class Refused(HolderError):
    """The request cannot be taken as it is: an unknown field or position, text no one can store (400)."""


class TooMany(HolderError):
    """The citizen has as many requests at this holder as one may have now (429)."""


class AlreadyAsked(HolderError):
    """The citizen has an open request about this very field (and item) already (409): ``reference`` names it."""

    def __init__(self, reference: str) -> None:
        super().__init__(
            "already_asked",
            f"You asked to correct this already ({reference}). Wait for the decision on that request.",
        )
        self.reference = reference


class BadValue(ValueError):
    """A value staff typed that the field cannot take, and why, in a Dutch sentence for the page."""

    def __init__(self, message: str) -> None:
        super().__init__(str(message))
        self.message = message


class TooLarge(BadValue):
    """A number larger than the source and every reader of its copies can keep exactly."""

    def __init__(self) -> None:
        super().__init__(_("Dit getal is te groot. Gebruik hoogstens 13 cijfers voor de komma."))


class DecisionRefused(Exception):
    """A step staff may not take on this request: a stable code and a Dutch sentence for the page."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(str(message))
        self.code, self.message = code, message


def _months_after(moment: datetime, months: int) -> datetime:
    """The end of the day, Europe/Amsterdam, ``months`` calendar months after ``moment`` (31 Jan + 1: 28/29 Feb)."""
    day = moment.astimezone(AMSTERDAM).date()
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    month += 1
    last = calendar.monthrange(year, month)[1]
    return datetime.combine(date(year, month, min(day.day, last)), END_OF_DAY, tzinfo=AMSTERDAM)


def deadline_of(received_at: datetime) -> datetime:
    """The end of the day, Europe/Amsterdam, one calendar month after ``received_at``."""
    return _months_after(received_at, 1)


def _text(value: str, name: str, limit: int, *, lines: bool) -> str:
    """``value`` in NFC, stripped; :class:`Refused` when empty, too long, or holding characters that are not text."""
    cleaned = plain(value, lines=lines)
    if cleaned is None:
        raise Refused("invalid_input", f"The {name} holds an invisible or control character; send plain text.")
    if not cleaned or len(cleaned) > limit:
        raise Refused("invalid_input", f"Give {name}: 1 to {limit} characters.")
    return cleaned


def _list_key(document_type: DocumentType, path: str) -> str | None:
    """The part of ``path`` that names a list, when the field lies in the items of one; ``None`` otherwise.

    The catalogue's schemas nest one list at most (a list of items with fields), which is all this handles.
    """
    node, parts = document_type.schema, path.split(".")
    for depth, part in enumerate(parts):
        node = node.get("properties", {}).get(part, {})
        if node.get("type") == "array" and depth < len(parts) - 1:
            return ".".join(parts[: depth + 1])
    return None


def _place(document_type: DocumentType, path: str, position: int | None) -> list[str | int]:
    """The concrete place of the field ``path`` (item ``position`` in a list) in a document, as keys and indexes."""
    field = next((f for f in document_type.fields if f.path == path), None)
    if field is None:
        raise Refused("unknown_field", f"The document type {document_type.id} has no field {path!r}.")
    if path == "burgerservicenummer":  # the key the source finds the document by: a matter for the organisation
        raise Refused("field_not_correctable", "The citizen service number cannot be corrected through this service.")
    in_list = _list_key(document_type, path)
    if (position is None) != (in_list is None):
        raise Refused("bad_position", "Give positie exactly when the field lies in a list (counted from 0).")
    if in_list is None:
        return list(path.split("."))
    depth = in_list.count(".") + 1
    parts = path.split(".")
    return [*parts[:depth], position, *parts[depth:]]


def _item_place(place: list[str | int]) -> list[str | int] | None:
    """The part of ``place`` that leads to the list item (up to its index); ``None`` for a field outside a list."""
    index = next((n for n, step in enumerate(place) if isinstance(step, int)), None)
    return None if index is None else place[: index + 1]


def item_words(document_type: DocumentType, path: str, item: Any) -> str | None:
    """Words that tell the list item ``item`` (holding the field ``path``) from the others, in the active language:
    its kind, its reference and its amount, as the portal's data page names an item; ``None`` outside a list."""
    key = _list_key(document_type, path)
    if key is None or not isinstance(item, dict):
        return None
    claims: dict[str, Any] = {}
    _set(claims, list(key.split(".")), [item])
    return item_name(document_type, display.rows(document_type, claims))


def _get(data: Any, place: list[str | int]) -> Any:
    """The value at ``place`` in ``data``; ``None`` when an optional part is missing; ``IndexError`` past a list."""
    for step in place:
        if isinstance(step, int):
            if not isinstance(data, list) or step >= len(data):
                raise IndexError(step)
            data = data[step]
        elif isinstance(data, dict):
            data = data.get(step)
        else:
            return None
    return data


def _set(data: dict[str, Any], place: list[str | int], value: Any) -> None:
    """Put ``value`` at ``place`` in ``data``, making a missing optional object on the way."""
    node: Any = data
    for step in place[:-1]:
        if isinstance(step, str) and node.get(step) is None:
            node[step] = {}
        node = node[step]
    node[place[-1]] = value


def citizen(holder: Holder, assertion: str, scheme: SchemeDocument) -> SessionAssertion:
    """Verify the app manager's assertion and use it up, committed at once, before anything else is looked at.

    As for issuing: a request refused after this has used its assertion all the same, and nobody without a
    sound assertion makes the holder decode or check an attachment.
    """
    with write_transaction():
        session = sessions.accept(holder.oin, assertion, scheme)
    if session.sharing is not None:
        raise Refused("wrong_assertion", "This assertion shares data with a requester; ask for one without.")
    return session


def _within_caps(holder: Holder, subject: str, now: datetime) -> None:
    """:class:`TooMany` when the citizen has :data:`MAX_OPEN` open requests here, or sent :data:`MAX_PER_DAY` today."""
    mine = CorrectionRequest.objects.filter(holder=holder.tenant, subject=subject)
    if mine.filter(state__in=OPEN).count() >= MAX_OPEN:
        raise TooMany(
            "too_many_requests",
            f"You have {MAX_OPEN} requests at {holder.name} that are not decided yet. "
            "Wait for a decision on one of them, then send this one.",
        )
    if mine.filter(received_at__gt=now - timedelta(days=1)).count() >= MAX_PER_DAY:
        raise TooMany(
            "too_many_requests",
            f"You sent {MAX_PER_DAY} requests to {holder.name} in the last 24 hours. Send this one tomorrow.",
        )


def submit(
    holder: Holder,
    session: SessionAssertion,
    *,
    type_id: str,
    path: str,
    position: int | None,
    proposed: str,
    explanation: str,
    attachment: Attachment | None,
    key: str = "",
) -> tuple[CorrectionRequest, bool]:
    """Store the citizen's request to correct the field ``path`` (item ``position``, counted from 0, in a list).

    The citizen is who ``session`` says (from :func:`citizen`). ``key``: the app manager's key for this
    request; sent again with the same key by the same citizen, the request stored then is answered, and
    nothing new is stored. The request, and whether it is new. :class:`NotHere` when the holder does not
    issue the type or has no such document about the citizen; :class:`Refused` for a field the type does
    not have, a position that is missing, needless or past the list, or text that cannot be stored;
    :class:`TooMany` past the caps. Nothing is stored when it is refused.
    """
    subject = pseudonym(session.bsn)
    now = timezone.now()
    with write_transaction():
        lock_name(f"correctieverzoek:{holder.oin}:{subject}")  # the caps and the key: one request at a time
        if key:
            earlier = CorrectionRequest.objects.filter(holder=holder.tenant, subject=subject, request_key=key)
            if found := earlier.defer("attachment", "bsn").first():
                return found, False
        document_type = holder.catalogue.get(type_id)
        if not holder.issues(type_id) or document_type is None:
            raise NotHere("not_issued_here", f"{holder.name} does not issue documents of type {type_id!r}.")
        place = _place(document_type, path, position)
        proposed = _text(proposed, "proposed value", MAX_PROPOSED, lines=False)
        explanation = _text(explanation, "explanation", MAX_EXPLANATION, lines=True)
        data = source_adapter().lookup(holder.oin, session.bsn, document_type)
        if data is None:
            raise NotHere("no_data", f"{holder.name} has no {type_id} about this citizen.")
        try:
            current = _get(data, place)
        except IndexError:
            raise Refused("bad_position", "The list has no item at this position.") from None
        in_list = _item_place(place)
        item = _get(data, in_list) if in_list is not None else None
        if (earlier := _asked_before(holder, subject, type_id, path, position, item)) is not None:
            raise AlreadyAsked(earlier.reference)
        _within_caps(holder, subject, now)
        access.write(
            holder,
            session.bsn,
            actor_oin=session.app_manager_oin,
            activity=CORRECTION_ASKED,
            purpose=PURPOSES[CORRECTION_ASKED],
            legal_basis=LEGAL_BASIS,
            type_id=type_id,
            fields=[path],
            at=now,
        )
        stored = _store(
            CorrectionRequest(
                holder=holder.tenant,
                bsn=session.bsn,
                subject=subject,
                app_manager_oin=session.app_manager_oin,
                document_type=type_id,
                path=path,
                position=position,
                current_value=current,
                item=item,
                proposed_value=proposed,
                explanation=explanation,
                attachment_name=attachment.name if attachment else "",
                attachment_type=attachment.media_type if attachment else "",
                attachment=attachment.data if attachment else None,
                received_at=now,
                deadline=deadline_of(now),
                request_key=key,
            )
        )
    return stored, True


def _asked_before(
    holder: Holder, subject: str, type_id: str, path: str, position: int | None, item: Any
) -> CorrectionRequest | None:
    """The citizen's open request about the same field of the same item, if there is one.

    The same item is an equal one wherever it stands now (a list's order may change in the source); a request
    kept before items were stored is matched by its position.
    """
    mine = CorrectionRequest.objects.filter(
        holder=holder.tenant, subject=subject, document_type=type_id, path=path, state__in=OPEN
    )
    for earlier in mine.defer("attachment", "bsn").order_by("received_at"):
        if earlier.item == item if earlier.item is not None else earlier.position == position:
            return earlier
    return None


def _save_as_new(request: CorrectionRequest) -> CorrectionRequest:
    """Save ``request`` under a freshly drawn kenmerk, in a savepoint: a taken one spoils only this attempt."""
    request.reference = PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    with transaction.atomic():
        request.save(force_insert=True)
    return request


def _store(request: CorrectionRequest) -> CorrectionRequest:
    """Save ``request`` under a fresh kenmerk, another one when it was taken already."""
    for _attempt in range(TRIES - 1):
        try:
            return _save_as_new(request)
        except IntegrityError:
            continue  # a taken kenmerk: one chance in 32**8 per request stored
    return _save_as_new(request)  # taken every time: something else is wrong, and it says so


def of_citizen(holder: Holder, assertion: str, scheme: SchemeDocument) -> list[CorrectionRequest]:
    """The citizen's requests at ``holder``, newest first; the assertion is used up."""
    with write_transaction():
        session = sessions.accept(holder.oin, assertion, scheme)
        mine = CorrectionRequest.objects.filter(holder=holder.tenant, subject=pseudonym(session.bsn))
        return list(mine.defer("attachment", "bsn").order_by("-received_at"))


def queue(holder_oin: str) -> QuerySet[CorrectionRequest]:
    """The holder's requests: open ones by deadline first, then decided ones, newest first. Attachments not loaded."""
    is_open = When(state__in=OPEN, then=Value(0))
    return (
        CorrectionRequest.objects.filter(holder_id=holder_oin)
        .defer("attachment")
        .annotate(
            closed=Case(is_open, default=Value(1), output_field=IntegerField()),
            open_deadline=Case(When(state__in=OPEN, then=F("deadline"))),
        )
        .order_by("closed", F("open_deadline").asc(nulls_last=True), F("decided_at").desc(nulls_last=True), "-pk")
    )


def _locked(req: CorrectionRequest) -> CorrectionRequest:
    """``req`` as stored now, locked until the transaction ends; :class:`DecisionRefused` once it is decided."""
    locked = CorrectionRequest.objects.select_for_update().get(pk=req.pk)
    if locked.state not in OPEN:
        raise DecisionRefused("decided", _("Over dit verzoek is al beslist. Er kan niets meer aan veranderen."))
    return locked


REASON_TOO_SHORT = _("Schrijf een reden van minstens 10 tekens. De inwoner leest die, en wil begrijpen waarom.")


def extended(req: CorrectionRequest, months: int) -> datetime:
    """The deadline once extended by ``months``: that many calendar months after the first one."""
    return _months_after(req.received_at, 1 + months)


def _reason(reason: str) -> str:
    cleaned = plain(reason, lines=True)
    if cleaned is None:
        raise DecisionRefused("reason_bad_text", _("De reden bevat een teken dat niet kan. Gebruik gewone tekst."))
    if not cleaned:
        raise DecisionRefused("reason_missing", _("Schrijf de reden op. De burger krijgt die te zien."))
    if len(cleaned) < MIN_REASON:
        raise DecisionRefused("reason_too_short", REASON_TOO_SHORT)
    if len(cleaned) > MAX_REASON:
        raise DecisionRefused("reason_too_long", _("De reden is te lang. Gebruik hoogstens 1000 tekens."))
    return cleaned


def take_up(req: CorrectionRequest, by: str) -> CorrectionRequest:
    """Mark the request in behandeling, by the staff member ``by``."""
    with write_transaction():
        locked = _locked(req)
        locked.state, locked.handled_by = CorrectionRequest.State.IN_PROGRESS, by
        locked.save(update_fields=["state", "handled_by"])
    return locked


def reject(req: CorrectionRequest, by: str, reason: str) -> CorrectionRequest:
    """Reject the request with ``reason`` (the citizen sees it); the app manager is told there is news."""
    reason = _reason(reason)
    with write_transaction():
        locked = _locked(req)
        locked.state, locked.decision_reason = CorrectionRequest.State.REJECTED, reason
        locked.decided_at, locked.handled_by, locked.notice_pending = timezone.now(), by, True
        locked.save(update_fields=["state", "decision_reason", "decided_at", "handled_by", "notice_pending"])
    return locked


def extend(req: CorrectionRequest, by: str, reason: str, months: int) -> CorrectionRequest:
    """Extend the deadline once by ``months`` (1 or 2), with ``reason``; the app manager is told there is news."""
    if months not in range(1, MAX_EXTENSION + 1):
        raise DecisionRefused("bad_months", _("Verleng met 1 of 2 maanden. Langer mag niet."))
    reason = _reason(reason)
    with write_transaction():
        locked = _locked(req)
        if locked.extension_reason:
            raise DecisionRefused("already_extended", _("De termijn is al eens verlengd. Dat mag maar één keer."))
        locked.deadline = extended(locked, months)
        locked.extension_reason, locked.handled_by, locked.notice_pending = reason, by, True
        locked.save(update_fields=["deadline", "extension_reason", "handled_by", "notice_pending"])
    return locked


def _amount(text: str) -> int:
    """Hundredths from an amount as people write it: ``1.234,56``, ``1,234.56``, ``1234.56``, ``€ 12``, ``2,5%``.

    The decimal separator stands before one or two digits at the end; groups of three before it may be
    separated by the other one. One group alone, as in ``331,135`` or ``1.234``, is refused: a reader could
    take it either way. At most :data:`MAX_DIGITS` digits before it (:class:`TooLarge`): integers only, so
    nothing is rounded.
    """
    text = re.sub(r"\s", "", text).removeprefix("€").removesuffix("%")
    match = _AMOUNT.fullmatch(text)
    if match is None:
        raise ValueError(text)
    sign, whole, group, decimal, cents = match.groups()
    if cents is not None and len(cents) > 2:
        raise BadValue(_("Na de komma komen 1 of 2 cijfers: de centen. Bijvoorbeeld 331,14."))
    if group and group == decimal:
        raise ValueError(text)  # "1.234.56": the decimal separator must differ from the grouping one
    if group and cents is None and whole.count(group) == 1:
        raise BadValue(
            _(
                "Dit bedrag kunt u op twee manieren lezen. Schrijf het zonder punt of komma tussen de duizendtallen "
                "(bijvoorbeeld 331135), of met de centen erbij (bijvoorbeeld 331,14 of 331.135,00)."
            )
        )
    digits = whole.replace(group or "_", "").lstrip("0")
    if len(digits) > MAX_DIGITS:
        raise TooLarge
    hundredths = int(digits or "0") * 100 + int((cents or "0").ljust(2, "0"))
    return -hundredths if sign else hundredths


def _date(text: str) -> str:
    """An ISO date from ``dd-mm-jjjj`` (or with / or .) or ISO ``jjjj-mm-dd``; one that is not in the calendar (31
    February) says so."""
    text = text.strip()
    if match := _DUTCH_DATE.fullmatch(text):
        year, month, day = int(match[3]), int(match[2]), int(match[1])
    elif match := _ISO_DATE.fullmatch(text):
        year, month, day = int(match[1]), int(match[2]), int(match[3])
    else:
        raise ValueError(text)
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        raise BadValue(_("Deze datum bestaat niet.")) from None


def parse(field: Field, text: str) -> Any:
    """The value staff typed, as the catalogue stores a field of this kind; ``ValueError`` when it is not one
    (:class:`BadValue` when there is more to say, e.g. :class:`TooLarge` for an amount past what every reader of
    the data reads exactly)."""
    text = text.strip()
    if field.kind in ("money", "percentage"):
        amount = _amount(text)
        if abs(amount) > MAX_EXACT:
            raise TooLarge
        return amount
    if field.kind == "date":
        return _date(text)
    if field.kind == "year":
        if not re.fullmatch(r"\d{4}", text):
            raise ValueError(text)
        return int(text)
    if field.kind == "boolean":
        return _BOOLEANS[text.lower()]  # a KeyError is a ValueError here: see value_of
    # A coded value may be typed as its words: the code is what the source keeps.
    return next((code for code, words in field.values.items() if text.lower() in map(str.lower, words.values())), text)


# The examples are in the page's language (the English catalogue writes 1,234.56 and 2026-03-31); both are read.
VALUE_HELP = {
    "money": _("Schrijf een bedrag in euro's, bijvoorbeeld 1.234,56."),
    "percentage": _("Schrijf een percentage, bijvoorbeeld 2,5."),
    "date": _("Schrijf een datum als dag-maand-jaar, bijvoorbeeld 31-01-2026."),
    "year": _("Schrijf een jaar met vier cijfers, bijvoorbeeld 2025."),
    "boolean": _("Schrijf ja of nee."),
}
NOT_THIS_VALUE = _("Deze waarde past niet bij dit gegeven. Kijk of het goed is.")


def _schema_of(document_type: DocumentType, path: str) -> dict[str, Any]:
    """The JSON schema of the field ``path`` (through the items of a list); empty when the schema has none."""
    node = document_type.schema
    for part in path.split("."):
        if node.get("type") == "array":
            node = node.get("items", {})
        node = node.get("properties", {}).get(part, {})
    return node


def value_of(document_type: DocumentType, field: Field, text: str) -> Any:
    """``text`` as staff typed it, read as the field's kind and within the catalogue's bounds for it (an amount
    still to pay is not negative); :class:`BadValue` with a sentence that says what to write instead."""
    typed = plain(text, lines=False)
    if not typed or len(typed) > MAX_PROPOSED:
        raise BadValue(_("Schrijf de nieuwe waarde, hoogstens 500 tekens gewone tekst."))
    try:
        value = parse(field, typed)
    except BadValue:
        raise
    except (ValueError, KeyError):
        raise BadValue(VALUE_HELP.get(field.kind, NOT_THIS_VALUE)) from None
    schema = _schema_of(document_type, field.path)
    if isinstance(value, int) and not isinstance(value, bool):
        if value < schema.get("minimum", value):
            raise BadValue(_("Dit kan niet negatief zijn.") if value < 0 else _("Dit getal is te klein."))
        if value > schema.get("maximum", value):
            raise BadValue(_("Dit getal is te groot."))
    return value


def far_off(field: Field, then: Any, new: Any) -> str | None:
    """``"more"`` when the new amount is more than :data:`FAR_OFF` times the one now, ``"less"`` when it is less
    than a tenth of it, else ``None``: a typing slip (a comma too few or too many) more often than a correction."""
    numbers = all(isinstance(v, int) and not isinstance(v, bool) for v in (then, new))
    if field.kind != "money" or not numbers or then == 0:
        return None
    if abs(new) > FAR_OFF * abs(then):
        return "more"
    return "less" if FAR_OFF * abs(new) < abs(then) else None


def words(field: Field | None, value: Any) -> str:
    """A stored value as people write it (euros, dates in words, the words for a code), in the active language."""
    if field is None:
        return display.format_value("text", value)
    return field.words(value, i18n.language()) or display.format_value(field.kind, value)


def _document_type(type_id: str) -> tuple[SchemeDocument, DocumentType]:
    scheme = scheme_client.in_hand()
    document_type = document_types.of(scheme).get(type_id) if scheme is not None else None
    if scheme is None or document_type is None:
        raise DecisionRefused("no_catalogue", _("De gegevenscatalogus is nu niet te lezen. Probeer het later opnieuw."))
    return scheme, document_type


def _now_at(document_type: DocumentType, data: Any, req: CorrectionRequest) -> list[str | int]:
    """Where the request's field stands in ``data`` now: a list item is found again as the item at the stored
    position when that is still the item the request was about, else as the one item equal to it elsewhere in
    the list (the source may order its list differently now). :class:`DecisionRefused` when it is gone, or
    stands in the list more than once."""
    place = _place(document_type, req.path, req.position)
    in_list = _item_place(place)
    if in_list is None or req.item is None:  # outside a list, or kept before items were: the position it is
        return place
    items = _get(data, in_list[:-1])
    items = items if isinstance(items, list) else []
    index = req.position
    if not (index is not None and index < len(items) and items[index] == req.item):
        same = [n for n, item in enumerate(items) if item == req.item]
        if len(same) != 1:
            raise DecisionRefused(
                "item_changed",
                _(
                    "Dit onderdeel van de lijst is veranderd sinds het verzoek, of staat er niet meer in. "
                    "Bekijk het verzoek opnieuw, en pas de gegevens zo nodig aan in de bron zelf."
                ),
            )
        index = same[0]
    return [*in_list[:-1], index, *place[len(in_list) :]]


def in_source(req: CorrectionRequest) -> Any:
    """The value of the request's field in the source now (of the same list item, wherever it stands now);
    :class:`DecisionRefused` when the source has no such document or item any more."""
    _scheme, document_type = _document_type(req.document_type)
    data = source_adapter().lookup(req.holder_id, req.bsn, document_type)
    if data is None:
        raise DecisionRefused("no_data", _("De bron heeft deze gegevens niet meer. Pas ze aan in de bron zelf."))
    try:
        return _get(data, _now_at(document_type, data, req))
    except (IndexError, Refused):
        raise DecisionRefused("position_gone", _("Dit item staat niet meer in de lijst van de bron.")) from None


THEN = object()  # accept's ``expected`` when not given: the value when the request came in


def accept(req: CorrectionRequest, by: str, value: str, expected: Any = THEN) -> CorrectionRequest:
    """Write ``value`` (as staff typed it) to the source, supersede older copies, and mark the request aangepast.

    ``value`` is read as the field's kind (an amount in euros becomes cents, a date dd-mm-jjjj becomes
    ISO); the whole new document must pass the catalogue's schema. The field is found again in the source
    (a list item wherever it stands now, see :func:`in_source`) and must still hold ``expected``: the value
    staff saw on the confirm step, else the value when the request came in; when it does not, nothing is
    written and staff are told what it is now. The source, the supersession of this holder's earlier
    copies, the access record and the decision are one transaction.
    """
    scheme, document_type = _document_type(req.document_type)
    participant = scheme.organisations.get(req.holder_id)
    if participant is None:
        raise DecisionRefused(
            "holder_gone",
            _("Deze organisatie staat niet meer in het stelsel. Pas de gegevens daarom aan in de bron zelf."),
        )
    field = document_type.field(req.path)
    if field is None:
        raise DecisionRefused("bad_value", NOT_THIS_VALUE)
    try:
        parsed = value_of(document_type, field, value)
    except TooLarge as refused:
        raise DecisionRefused("too_large", refused.message) from None
    except BadValue as refused:
        raise DecisionRefused("bad_value", refused.message) from None
    holder = Holder(participant, req.holder, document_types.of(scheme))
    with write_transaction():
        # First: an issuance that read the source before this correction must not supersede the corrected copy.
        freshness.lock_citizen(req.holder_id, req.bsn, req.document_type)
        locked = _locked(req)
        adapter = source_adapter()
        data = adapter.lookup(locked.holder_id, locked.bsn, document_type)
        if data is None:
            raise DecisionRefused("no_data", _("De bron heeft deze gegevens niet meer. Pas ze aan in de bron zelf."))
        new = copy.deepcopy(data)
        try:
            place = _now_at(document_type, data, locked)
            now_there = _get(new, place)
            if now_there != (locked.current_value if expected is THEN else expected):
                raise DecisionRefused(
                    "value_changed",
                    _(
                        "Dit gegeven is veranderd sinds het verzoek: toen %(then)s, nu %(now)s. "
                        "Bekijk het verzoek opnieuw."
                    )
                    % {"then": words(field, locked.current_value), "now": words(field, now_there)},
                )
            _set(new, place, parsed)
            document_type.validate(new)
        except IndexError:
            raise DecisionRefused("position_gone", _("Dit item staat niet meer in de lijst van de bron.")) from None
        except (Refused, InvalidInput):
            raise DecisionRefused("bad_value", NOT_THIS_VALUE) from None
        adapter.replace(locked.holder_id, locked.bsn, document_type, new)
        freshness.supersede(locked.holder, locked.bsn, locked.document_type)
        now = timezone.now()
        access.write(
            holder,
            locked.bsn,
            actor_oin=locked.holder_id,
            activity=CORRECTED,
            purpose=f"{PURPOSES[CORRECTED]} Kenmerk {locked.reference}.",
            legal_basis=LEGAL_BASIS,
            type_id=locked.document_type,
            fields=[locked.path],
            at=now,
        )
        locked.state, locked.corrected_value, locked.decided_at = CorrectionRequest.State.CORRECTED, parsed, now
        locked.handled_by, locked.notice_pending = by, True
        locked.save(update_fields=["state", "corrected_value", "decided_at", "handled_by", "notice_pending"])
    return locked


def forget_old_attachments(now: datetime) -> int:
    """Delete the attachments of requests decided more than :data:`ATTACHMENT_KEPT` ago; how many.

    The bytes go; the name stays, marked :data:`REMOVED`, so that staff see there was one.
    """
    limit = CorrectionRequest._meta.get_field("attachment_name").max_length - len(REMOVED)
    with write_transaction():
        return CorrectionRequest.objects.filter(decided_at__lt=now - ATTACHMENT_KEPT, attachment__isnull=False).update(
            attachment=None, attachment_name=Concat(Substr("attachment_name", 1, limit), Value(REMOVED))
        )


@task()
def forget_attachments() -> int:
    """The daily task: attachments of requests decided 90 days ago and longer are deleted."""
    return forget_old_attachments(timezone.now())
