"""The holder prints a copy it issued: it checks the presentation is its own, valid one, then signs a PDF."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from django.conf import settings
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from blauweknop import pdf, signing
from blauweknop.db import write_transaction
from blauweknop.display import PRINTED, rows
from blauweknop.holder import access, sessions
from blauweknop.holder.errors import NotOurs, NotYours
from blauweknop.holder.models import StatusListRecord
from blauweknop.holder.tenants import Holder
from blauweknop.protocol import check_code, sdjwt_vc
from blauweknop.protocol.errors import ProtocolError
from blauweknop.protocol.jwk import thumbprint
from blauweknop.protocol.scheme_document import SchemeDocument
from blauweknop.protocol.status_list import StatusListClient

logger = logging.getLogger(__name__)


def _own_status_list(holder: Holder, uri: str) -> str:
    # The holder's own statuses come from its own database, not over HTTP to itself: the token a
    # GET of that list would serve.
    record = StatusListRecord.objects.at(holder.tenant, uri)
    if record is None:
        raise NotOurs("not_issued_here", f"{holder.name} did not issue this copy.")
    return record.served_token(timezone.now())[0]


def _verified_own_copy(holder: Holder, presentation: str) -> sdjwt_vc.VerifiedCredential:
    try:
        verified = sdjwt_vc.verify(
            presentation,
            holder.keys,
            status_lists=StatusListClient(lambda uri: _own_status_list(holder, uri)),
            require_key_binding=False,
        )
    except ProtocolError as exc:
        logger.warning("print refused: holder=%s code=%s", holder.oin, exc.code)
        raise
    if verified.iss != holder.issuer_url:
        raise NotOurs("not_issued_here", f"{holder.name} did not issue this copy.")
    return verified


def _check_by(code: str | None) -> tuple[str, str, str]:
    """How a reader checks the paper: the explanation, the address (text and QR code), the code line."""
    if code is None:
        explanation = _(
            "Is dit echt? Ga naar deze pagina of scan de code. Upload dit PDF-bestand. "
            "U ziet dan of de gegevens echt zijn en nog gelden."
        )
        return explanation, settings.VERIFY_URL, ""
    explanation = _(
        "Is dit echt? Scan de QR-code, of ga naar de pagina hieronder. Of ga naar %(url)s en vul de "
        "controlecode in. U ziet dan wie deze kopie maakte, welke gegevens erin staan en of ze nog gelden."
    ) % {"url": settings.VERIFY_URL}
    shown = check_code.formatted(code)
    return explanation, f"{settings.VERIFY_URL}{shown}/", _("Controlecode: %(code)s") % {"code": shown}


def print_copy(
    holder: Holder, assertion: str, presentation: str, language: str, scheme: SchemeDocument, code: str | None = None
) -> bytes:
    """A signed PDF of ``presentation``: a valid copy issued by ``holder`` to the citizen in ``assertion``.

    Signing costs CPU and lends the holder's name, so only a certified app manager may ask, once
    per assertion, and only for the logged-in citizen's own copy (bound to their wallet key).
    ``code``: the check code the app manager keeps this copy under (normalised); the PDF prints it
    with the address and QR code that open the copy's verify page.
    """
    with write_transaction():
        session = sessions.accept(holder.oin, assertion, scheme)
    verified = _verified_own_copy(holder, presentation)
    if verified.holder_jwk is None or thumbprint(verified.holder_jwk) != thumbprint(session.wallet_jwk):
        logger.warning("print refused: holder=%s code=not_your_copy", holder.oin)
        raise NotYours("not_your_copy", "This copy was issued to another wallet than the citizen's.")
    document_type = holder.catalogue.by_vct(verified.vct)
    if document_type is None:
        raise NotOurs("unknown_document_type", "This copy is of a type the catalogue does not know.")
    with translation.override(language):
        name = document_type.name[language]
        issued = timezone.localtime(datetime.fromtimestamp(verified.issued_at or 0, tz=UTC))
        valid_until = timezone.localtime(datetime.fromtimestamp(verified.expires_at, tz=UTC))
        explanation, verify_url, code_text = _check_by(code)
        page = pdf.Page(
            title=_("Gewaarmerkte kopie: %(name)s") % {"name": name},
            lines=[
                _("Van: %(holder)s") % {"holder": holder.name},
                _("Gemaakt op: %(when)s") % {"when": formats.date_format(issued, "j F Y, H:i")},
                _("Geldig tot: %(when)s") % {"when": formats.date_format(valid_until, "j F Y")},
                _("%(holder)s heeft deze kopie ondertekend. Zo is te zien of iemand de gegevens veranderde.")
                % {"holder": holder.name},
                # A receiver cannot tell whether fields were left out (the digests of hidden ones look
                # like decoys), so every copy says it may be incomplete, as the verify page does.
                _("De persoon koos zelf welke gegevens in deze kopie staan. Er kunnen gegevens zijn weggelaten."),
            ],
            rows=[
                (row.label if not row.item else f"{row.item}. {row.label}", row.value)
                for row in rows(document_type, verified.claims)
            ],
            check_text=explanation,
            verify_url=verify_url,
            language=language,
            code_text=code_text,
            page_text=_("pagina %(page)d van %(pages)d"),
        )
    key = signing.key_for(holder.participant)
    document = pdf.make(page, presentation, key, signer_name=holder.name, oin=holder.oin)
    fields = access.fields_in(document_type, verified.claims)
    with write_transaction():  # only once the PDF exists: the record says what truly happened
        access.record(holder, session, PRINTED, document_type.id, fields, timezone.now())
    return document
