"""The debt overview as one bundle to hand over: each source's own certified copy, and one PDF over them all.

A ZIP with, per holder and debt type, its copy as an ``.sdjwt`` presentation (every debt field and the
name and birth date; the BSN left out), one PDF made and signed by the portal that lists every debt and
says plainly which source certified which part, and ``inhoud.json``: each file's name, SHA-256, source
and type. The portal does not certify others' data: the PDF's signature only makes the bundle tamper-
evident (it holds every part and its fingerprint); each part is checked against its own source.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.utils import formats
from django.utils.translation import gettext as _

from blauweknop import keystore, pdf
from blauweknop.document_types import DocumentType
from blauweknop.i18n import language
from blauweknop.portal.debts import Debt, parse_day
from blauweknop.portal.downloads import file_name
from blauweknop.protocol import sdjwt, sdjwt_vc
from blauweknop.protocol.scheme_document import Participant

# A bundle is a few copies of a few kB and one PDF of a few pages; far more means something is wrong.
MAX_BUNDLE_BYTES = 8 * 1024 * 1024
MAX_DEBTS = 500  # debts the PDF lists: each is a table to lay out, and the page must answer within seconds
MANIFEST = "inhoud.json"
SIGNER = "De Blauwe Knop"  # the portal's name in its signing certificate, in every language
LEFT_OUT = frozenset({"burgerservicenummer"})  # the overview is handed over; the BSN is not needed for it


class TooLarge(Exception):
    """The bundle would be larger than :data:`MAX_BUNDLE_BYTES`."""


@dataclass(frozen=True)
class Part:
    """One source's certified copy in the bundle."""

    holder: Participant
    type: DocumentType
    presentation: str  # the copy as an SD-JWT VC presentation, without the BSN
    file_name: str

    @property
    def sha256(self) -> str:
        """The fingerprint of the file, as the manifest and the PDF print it."""
        return hashlib.sha256(self.presentation.encode("ascii")).hexdigest()


def presentation(credential: str) -> str:
    """The copy with every data claim disclosed except :data:`LEFT_OUT`."""
    claims = sdjwt.unverified_claims(credential)
    return sdjwt_vc.present(credential, [k for k in claims if k not in sdjwt_vc.PLAIN_CLAIMS | LEFT_OUT])


def part(holder: Participant, document_type: DocumentType, credential: str, today: date) -> Part:
    """One source's part of the bundle, named like its own download (``<organisation>-<type>-<date>.sdjwt``)."""
    return Part(holder, document_type, presentation(credential), file_name(holder, document_type.id, "sdjwt", today))


def subject(claims: Mapping[str, Any]) -> str | None:
    """Whom the copies are about, from a copy's name and birth date, when it has them."""
    name = claims.get("naam") if isinstance(claims.get("naam"), dict) else {}
    words = [name.get(k) for k in ("voornamen", "voorvoegsel", "geslachtsnaam") if isinstance(name.get(k), str)]
    born = parse_day(claims["geboorte"].get("datum")) if isinstance(claims.get("geboorte"), dict) else None
    if not words:
        return None
    named = " ".join(words)
    return named + ", " + _("geboren op %(day)s") % {"day": _day(born)} if born else named


def _day(day: date) -> str:
    return formats.date_format(day, "j F Y")


def _debt_rows(debt: Debt) -> list[tuple[str, str]]:
    """One debt as label and value rows, in the words of the web page."""
    rows = [
        (_("Waarvoor"), debt.what_for or "—"),
        (_("Kenmerk"), debt.reference or "—"),
        (_("Eerste bedrag"), debt.original_text),
        (_("Openstaand bedrag"), debt.outstanding_text),
    ]
    if debt.due:
        rows.append((_("Vervaldatum"), _day(debt.due) + (" " + _("(te laat)") if debt.overdue else "")))
    plan = _("ja, %(amount)s per maand") % {"amount": debt.monthly_text} if debt.monthly is not None else _("ja")
    rows.append((_("Betalingsregeling"), plan if debt.arrangement else _("nee")))
    if debt.pay_to:
        how = zip(
            (_("Rekeningnummer"), _("Ten name van"), _("Betalingskenmerk")),
            (debt.pay_to.account_text, debt.pay_to.name, debt.pay_to.reference),
            strict=True,
        )
        rows.append((_("Hoe betalen"), "; ".join(f"{label}: {value}" for label, value in how if value)))
    if debt.phone or debt.website:
        call = [_("Bel") + " " + debt.phone if debt.phone else None, debt.website]
        rows.append((_("Vragen? Neem contact op"), "; ".join(w for w in call if w)))
    if debt.object_passed and debt.object_until:
        rows.append(
            (_("Bezwaar maken"), _("Dat kon tot %(day)s. Die datum is voorbij.") % {"day": _day(debt.object_until)})
        )
    elif debt.object_via or debt.object_until:
        until = _("Kan tot en met %(day)s.") % {"day": _day(debt.object_until)} if debt.object_until else None
        rows.append((_("Bezwaar maken"), " ".join(w for w in (until, debt.object_via) if w)))
    return rows


def summary(parts: list[Part], debts: list[Debt], total: str, today: date) -> bytes:
    """The portal's PDF over every part, signed with the portal's own key, with each part embedded."""
    verify_url = settings.VERIFY_URL
    about = next((s for p in parts if (s := subject(sdjwt.unverified_claims(p.presentation)))), None)
    sections = []
    for p in parts:
        said = [
            _(
                "Dit deel komt van %(holder)s en is door %(holder)s ondertekend. "
                "Controleer het met het bestand %(file)s op %(url)s."
            )
            % {"holder": p.holder.name, "file": p.file_name, "url": verify_url},
            _("Vingerafdruk van het bestand (SHA-256): %(sha)s") % {"sha": p.sha256},
        ]
        tables = [_debt_rows(d) for d in debts if (d.holder_oin, d.type_id) == (p.holder.oin, p.type.id)]
        sections.append(pdf.Part(f"{p.holder.name}: {p.type.name[language()]}", said, tables))
    page = pdf.Page(
        title=_("Schuldenoverzicht"),
        lines=[
            _("Gemaakt op %(day)s door De Blauwe Knop.") % {"day": formats.date_format(today, "j F Y")},
            *([_("Over: %(subject)s") % {"subject": about}] if about else []),
            _("Totaal nog te betalen: %(total)s") % {"total": total},
            _("De Blauwe Knop heeft deze gegevens niet zelf gecontroleerd of ondertekend; alleen samengevoegd."),
        ],
        rows=[],
        check_text=_("Elk deel is ondertekend door de organisatie waar het vandaan komt. Controleer elk deel op:"),
        verify_url=verify_url,
        language=language(),
        page_text=_("pagina %(page)d van %(pages)d"),
        parts=sections,
    )
    attachments = [
        pdf.Attachment(p.file_name, p.presentation.encode("ascii"), "application/dc+sd-jwt", p.holder.name)
        for p in parts
    ]
    key = keystore.signing_key(settings.PORTAL_OIN)
    return pdf.make_with(page, attachments, key, signer_name=SIGNER, oin=settings.PORTAL_OIN)


def _entry(name: str, data: bytes, oin: str, type_id: str) -> dict[str, str]:
    return {"bestand": name, "sha256": hashlib.sha256(data).hexdigest(), "oin": oin, "documentsoort": type_id}


def make(parts: list[Part], debts: list[Debt], total: str, today: date) -> bytes:
    """The bundle as a ZIP: every part, the PDF over them and the manifest.

    :class:`TooLarge` when the parts alone pass :data:`MAX_BUNDLE_BYTES` or the debts :data:`MAX_DEBTS`
    (checked before the PDF is laid out), or the whole passes :data:`MAX_BUNDLE_BYTES`.
    """
    if sum(len(p.presentation) for p in parts) > MAX_BUNDLE_BYTES or len(debts) > MAX_DEBTS:
        raise TooLarge
    return _zip(parts, summary(parts, debts, total, today), today)


def _zip(parts: list[Part], summary_pdf: bytes, today: date) -> bytes:
    files = [(p.file_name, p.presentation.encode("ascii"), p.holder.oin, p.type.id) for p in parts]
    files.append((f"schuldenoverzicht-{today.isoformat()}.pdf", summary_pdf, settings.PORTAL_OIN, "schuldenoverzicht"))
    if sum(len(data) for _name, data, _oin, _type in files) > MAX_BUNDLE_BYTES:
        raise TooLarge
    manifest = {"gemaaktOp": today.isoformat(), "bestanden": [_entry(*f) for f in files]}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, data, _oin, _type in files:
            bundle.writestr(name, data)
        bundle.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2))
    return out.getvalue()
