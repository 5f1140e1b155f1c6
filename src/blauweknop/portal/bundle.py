"""The debt overview as one bundle to hand over: each source's own certified copy, and one PDF over them all.

A ZIP with, per holder and debt type, its copy as an ``.sdjwt`` presentation (every debt field and the
name and birth date; the BSN left out), one PDF made and signed by the portal that lists every debt and
says plainly which source certified which part, and ``inhoud.json``: each file's name, SHA-256, source
and type, and which organisations had debts, had none, did not answer or were not asked. The portal
does not vouch for others' data: it checked each part's signature, and its own signature on the PDF only
makes the bundle tamper-evident (it holds every part and its fingerprint). An incomplete overview says so.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from blauweknop import pdf, signing
from blauweknop.document_types import DocumentType
from blauweknop.i18n import language
from blauweknop.portal.debts import Debt, Overview, subject
from blauweknop.portal.downloads import file_name
from blauweknop.protocol import sdjwt, sdjwt_vc
from blauweknop.protocol.scheme_document import Participant, SchemeDocument

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
        late = _("(te laat)") if debt.overdue else debt.paying_by_arrangement
        rows.append((_("Vervaldatum"), " ".join(w for w in (_day(debt.due), late) if w)))
    plan = _("ja, %(amount)s per maand") % {"amount": debt.monthly_text} if debt.monthly is not None else _("ja")
    rows.append((_("Betalingsregeling"), plan if debt.arrangement else _("nee")))
    if debt.pay_to:
        how = zip(
            (_("Rekeningnummer"), _("Ten name van"), _("Zet bij uw betaling")),
            (debt.pay_to.account_text, debt.pay_to.name, debt.pay_to.reference),
            strict=True,
        )
        rows.append(
            (_("Hoe betalen"), " ".join([debt.what_to_pay, *(f"{label}: {value}." for label, value in how if value)]))
        )
    if debt.phone or debt.website:
        call = [_("Bel") + " " + debt.phone if debt.phone else None, debt.website]
        rows.append((_("Vragen? Neem contact op"), "; ".join(w for w in call if w)))
    if debt.too_late_to_object:
        rows.append((pgettext("schulden", "Bezwaar maken"), debt.too_late_to_object))
    elif debt.object_via or debt.object_until:
        until = _("Kan tot en met %(day)s.") % {"day": _day(debt.object_until)} if debt.object_until else None
        rows.append((pgettext("schulden", "Bezwaar maken"), " ".join(w for w in (until, debt.object_via) if w)))
    return rows


def completeness(found: Overview) -> list[str]:
    """Whether the overview is complete, and which organisations had debts, had none, or are missing."""
    if not found.missing:
        return found.who_said_what
    notice = _("Van deze organisaties hebben we nu geen gegevens: %(names)s. Het overzicht is dus niet compleet.")
    return [notice % {"names": ", ".join(found.missing)}, *found.who_said_what]


def about(parts: list[Part]) -> str | None:
    """Whom the bundle is about, from the first part that names the person."""
    return next((s for p in parts if (s := subject(sdjwt.unverified_claims(p.presentation)))), None)


def summary(scheme: SchemeDocument, parts: list[Part], found: Overview, today: date) -> bytes:
    """The portal's PDF over every part, signed with the key the portal's entry in ``scheme`` names, with each
    part embedded."""
    verify_url = settings.VERIFY_URL
    person = about(parts)
    sections = []
    for p in parts:
        said = [
            _(
                "Dit deel komt van %(holder)s en is door %(holder)s ondertekend. "
                "Controleer het met het bestand %(file)s op %(url)s."
            )
            % {"holder": p.holder.name, "file": p.file_name, "url": verify_url},
            _(
                "Controlegetal van het bestand: %(sha)s. "
                "Verandert er iets in het bestand, dan klopt dit getal niet meer."
            )
            % {"sha": p.sha256},
        ]
        tables = [_debt_rows(d) for d in found.debts if (d.holder_oin, d.type_id) == (p.holder.oin, p.type.id)]
        sections.append(pdf.Part(f"{p.holder.name}: {p.type.name[language()]}", said, tables))
    page = pdf.Page(
        title=_("Schuldenoverzicht"),
        lines=[
            _("Gemaakt op %(day)s door De Blauwe Knop.") % {"day": formats.date_format(today, "j F Y")},
            *([_("Over: %(subject)s") % {"subject": person}] if person else []),
            *completeness(found),
            f"{found.total_label}: {found.total_text}",
            _(
                "Elke organisatie heeft haar eigen deel ondertekend. De Blauwe Knop heeft die handtekeningen "
                "nagekeken, maar staat niet in voor de bedragen. De Blauwe Knop heeft dit PDF-bestand ondertekend, "
                "zodat u ziet dat er na het maken niets is veranderd."
            ),
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
    key = signing.key_in(scheme, settings.PORTAL_OIN)
    return pdf.make_with(page, attachments, key, signer_name=SIGNER, oin=settings.PORTAL_OIN)


def _entry(name: str, data: bytes, oin: str, type_id: str) -> dict[str, str]:
    return {"bestand": name, "sha256": hashlib.sha256(data).hexdigest(), "oin": oin, "documentsoort": type_id}


def make(scheme: SchemeDocument, parts: list[Part], found: Overview, today: date) -> bytes:
    """The bundle as a ZIP: every part, the PDF over them and the manifest.

    :class:`TooLarge` when the parts alone pass :data:`MAX_BUNDLE_BYTES` or the debts :data:`MAX_DEBTS`
    (checked before the PDF is laid out), or the whole passes :data:`MAX_BUNDLE_BYTES`.
    """
    if sum(len(p.presentation) for p in parts) > MAX_BUNDLE_BYTES or len(found.debts) > MAX_DEBTS:
        raise TooLarge
    return _zip(parts, summary(scheme, parts, found, today), found, today)


def _zip(parts: list[Part], summary_pdf: bytes, found: Overview, today: date) -> bytes:
    files = [(p.file_name, p.presentation.encode("ascii"), p.holder.oin, p.type.id) for p in parts]
    files.append((f"schuldenoverzicht-{today.isoformat()}.pdf", summary_pdf, settings.PORTAL_OIN, "schuldenoverzicht"))
    if sum(len(data) for _name, data, _oin, _type in files) > MAX_BUNDLE_BYTES:
        raise TooLarge
    manifest = {
        "gemaaktOp": today.isoformat(),
        "compleet": not found.missing,
        "organisaties": found.organisations(),
        "bestanden": [_entry(*f) for f in files],
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, data, _oin, _type in files:
            bundle.writestr(name, data)
        bundle.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2))
    return out.getvalue()
