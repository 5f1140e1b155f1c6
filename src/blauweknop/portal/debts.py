"""The debt overview ("Vorderingenoverzicht"): every debt from every organisation's verified copy, in one list.

Pure functions of the copies' claims, the holders as the scheme describes them and the day: the view
fetches nothing here, so a test can pass any claims and any date. Amounts stay integer cents; the
page formats them. A holder that did not answer is named, never left out silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils import formats
from django.utils.translation import gettext as _

from blauweknop.display import format_value, item_name, rows
from blauweknop.document_types import Catalogue, DocumentType
from blauweknop.i18n import language
from blauweknop.portal import data_page
from blauweknop.portal.models import SessionCopies
from blauweknop.protocol.scheme_document import Participant

DEBTS, STUDY_DEBT = "vorderingen", "studieschuld"
DEBT_TYPES = (DEBTS, STUDY_DEBT)
# The answers that tell the whole truth about a holder: its copies, or that it has nothing about the citizen.
FETCHED, NOTHING = SessionCopies.Outcome.FETCHED, SessionCopies.Outcome.NONE

# The page's choices as GET parameters: anything outside these lists falls back to the first (the default).
SORTS = ("vervaldatum", "bedrag", "schuldeiser")
ARRANGEMENTS = ("", "met", "zonder")
ONLY_LATE = "1"
MAX_PARAMETER = 40  # an OIN is 20 digits; a longer value is not one of ours and is not even compared


@dataclass(frozen=True)
class PayTo:
    """How to pay one debt (catalogue v3 ``betaalwijze``): the account, whose it is, what to write with it."""

    account: str | None
    name: str | None
    reference: str | None

    @property
    def account_text(self) -> str | None:
        """The account number in groups of four, as banks print an IBAN: easier to read out and to type."""
        if self.account is None:
            return None
        bare = "".join(self.account.split())
        return " ".join(bare[i : i + 4] for i in range(0, len(bare), 4))


@dataclass(frozen=True)
class Debt:
    """One debt as the overview shows it."""

    holder_oin: str
    creditor: str  # the holder's name, as the scheme has it
    type_id: str
    name: str  # words that tell this debt from others: kind, reference, amount (display.item_name)
    reference: str | None
    what_for: str | None
    original: int | None  # cents
    outstanding: int  # cents
    due: date | None
    late_since: date | None  # the first late day, when the due date passed and something is still owed
    arrangement: bool
    monthly: int | None  # cents, in the payment arrangement
    pay_to: PayTo | None
    phone: str | None
    website: str | None
    object_via: str | None
    object_until: date | None
    object_passed: bool

    @property
    def overdue(self) -> bool:
        """Whether the last day to pay has passed while something is still owed, without a payment arrangement.

        A debt in an active arrangement is paid month by month as agreed: its first due date passing is not late.
        """
        return self.late_since is not None and not self.arrangement

    @property
    def paying_by_arrangement(self) -> str | None:
        """Said instead of "late" when the due date passed but the citizen pays by an arrangement."""
        if self.late_since is None or not self.arrangement:
            return None
        if self.monthly is None:
            return _("U betaalt met een regeling.")
        return _("U betaalt met een regeling: %(amount)s per maand.") % {"amount": self.monthly_text}

    @property
    def what_to_pay(self) -> str:
        """Which amount to transfer: the monthly amount of an arrangement, or else what is still owed."""
        if self.arrangement and self.monthly is not None:
            return _("Betaal elke maand %(amount)s, zoals in uw regeling.") % {"amount": self.monthly_text}
        return _("Betaal het openstaande bedrag: %(amount)s.") % {"amount": self.outstanding_text}

    @property
    def too_late_to_object(self) -> str | None:
        """When the day to object has passed: that it has, and whom to call instead."""
        if not (self.object_passed and self.object_until):
            return None
        said = _("Dat kon tot %(day)s. Die datum is voorbij.") % {
            "day": formats.date_format(self.object_until, "j F Y")
        }
        if self.phone:
            said += " " + _("Toch niet eens met het bedrag? Bel %(phone)s.") % {"phone": self.phone}
        return said

    @property
    def original_text(self) -> str:
        """The first amount in euros, or a dash."""
        return format_value("money", self.original)

    @property
    def outstanding_text(self) -> str:
        """What is still owed, in euros."""
        return format_value("money", self.outstanding)

    @property
    def monthly_text(self) -> str:
        """The amount per month of the arrangement, in euros, or a dash."""
        return format_value("money", self.monthly)


@dataclass(frozen=True)
class CreditorTotal:
    """What is still owed to one organisation, over all its debts (not only those shown)."""

    oin: str
    name: str
    count: int
    outstanding: int  # cents

    @property
    def outstanding_text(self) -> str:
        """The total in euros."""
        return format_value("money", self.outstanding)


@dataclass(frozen=True)
class View:
    """How the citizen chose to see the list: the sort and the filters, each from an allow-list."""

    sort: str = SORTS[0]
    creditor: str = ""  # an OIN among the creditors, or "" for all
    only_late: bool = False
    arrangement: str = ARRANGEMENTS[0]

    @property
    def filtered(self) -> bool:
        """Whether some debts may be left out of the list."""
        return bool(self.creditor or self.only_late or self.arrangement)


@dataclass(frozen=True)
class Answers:
    """Which holders of debts said what, each list of names sorted by name."""

    without_debts: list[str]  # answered completely, with no debts in the copies
    unanswered: list[str]  # asked, but no complete answer (down, untrusted, suspended since)
    not_asked: list[str]  # not asked in this session (only another organisation's button was pressed)


@dataclass(frozen=True)
class Overview:
    """The debt overview: the debts shown, the totals and who is missing."""

    debts: list[Debt]  # after the filters, in the chosen order
    creditors: list[CreditorTotal]  # every organisation with debts, by name
    total: int  # cents still owed over every debt
    shown_total: int  # cents still owed over the debts shown
    count: int  # every debt, shown or not
    answers: Answers
    view: View

    @property
    def missing(self) -> list[str]:
        """The names of the holders we have no (complete) answer from: asked or not, by name."""
        return sorted(self.answers.unanswered + self.answers.not_asked, key=str.casefold)

    @property
    def with_debts(self) -> list[str]:
        """The names of the organisations with debts in the list, by name."""
        return [c.name for c in self.creditors]

    @property
    def total_label(self) -> str:
        """What the overall total is over: everything, or everything but the organisations that are missing."""
        if self.missing:
            return _("Samen, zonder %(names)s") % {"names": ", ".join(self.missing)}
        return _("Alles bij elkaar")

    @property
    def who_said_what(self) -> list[str]:
        """One sentence per kind of answer that some organisation gave, naming them: with debts, without, ..."""
        lists = [
            (_("Met schulden: %(names)s."), self.with_debts),
            (_("Zonder schulden bij u: %(names)s."), self.answers.without_debts),
            (_("Gaven nu geen antwoord: %(names)s."), self.answers.unanswered),
            (_("Nog niet gevraagd: %(names)s."), self.answers.not_asked),
        ]
        return [sentence % {"names": ", ".join(names)} for sentence, names in lists if names]

    def organisations(self) -> dict[str, list[str]]:
        """Which organisations the overview is made of, as the bundle's ``inhoud.json`` lists them."""
        return {
            "metSchulden": self.with_debts,
            "zonderSchulden": self.answers.without_debts,
            "geenAntwoord": self.answers.unanswered,
            "nietGevraagd": self.answers.not_asked,
        }

    @property
    def total_text(self) -> str:
        """The overall total in euros."""
        return format_value("money", self.total)

    @property
    def shown_total_text(self) -> str:
        """The total of the debts shown, in euros."""
        return format_value("money", self.shown_total)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _cents(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def parse_day(value: Any) -> date | None:
    """An ISO date from a copy, or ``None`` when it is missing or not a date."""
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _https(value: Any) -> str | None:
    """A link the page may show: only an https address; anything else (``javascript:``) is left out."""
    return value if isinstance(value, str) and value.startswith("https://") and len(value) <= 300 else None


def contact(holder: Participant) -> tuple[str | None, str | None]:
    """Whom to call: the holder's phone number and help website from the scheme document, when it has them."""
    found = holder.info.get("contact") if isinstance(holder.info, Mapping) else None
    found = found if isinstance(found, Mapping) else {}
    return _text(found.get("telefoon")), _https(found.get("website"))


def _pay_to(value: Any) -> PayTo | None:
    if not isinstance(value, Mapping):
        return None
    pay_to = PayTo(
        _text(value.get("rekeningnummer")), _text(value.get("tenNameVan")), _text(value.get("betalingskenmerk"))
    )
    return pay_to if any((pay_to.account, pay_to.name, pay_to.reference)) else None


def _names(document_type: DocumentType, claims: dict[str, Any]) -> dict[int, str]:
    """By 1-based item number: the words that name each list item, as the data page names it."""
    by_item: dict[int, list[Any]] = {}
    for row in rows(document_type, claims):
        if row.item is not None:
            by_item.setdefault(row.item, []).append(row)
    return {item: item_name(document_type, shown) or "" for item, shown in by_item.items()}


def debts_of(holder: Participant, document_type: DocumentType, claims: dict[str, Any], today: date) -> list[Debt]:
    """The debts in one holder's copy of ``vorderingen`` (each item) or ``studieschuld`` (one line)."""
    phone, website = contact(holder)
    if document_type.id == STUDY_DEBT:
        owed = _cents(claims.get("totaleSchuldInCenten"))
        if owed is None:
            return []
        monthly = _cents(claims.get("aflossingPerMaandInCenten"))
        title = document_type.name[language()]
        return [
            Debt(
                holder_oin=holder.oin,
                creditor=holder.name,
                type_id=STUDY_DEBT,
                name=f"{title}, {format_value('money', owed)}",
                reference=None,
                what_for=title,
                original=None,
                outstanding=owed,
                due=None,
                late_since=None,
                arrangement=bool(monthly),
                monthly=monthly,
                pay_to=None,
                phone=phone,
                website=website,
                object_via=None,
                object_until=None,
                object_passed=False,
            )
        ]
    items = claims.get(DEBTS)
    if not isinstance(items, list):
        return []
    late, passed = data_page.late_since(claims, today), data_page.passed_deadlines(claims, today)
    kind, names = document_type.field(f"{DEBTS}.soort"), _names(document_type, claims)
    found = []
    for index, item in enumerate(items):
        owed = _cents(item.get("openstaandBedragInCenten")) if isinstance(item, dict) else None
        if owed is None:  # not a debt the list can add up
            continue
        words = kind.words(item.get("soort"), language()) if kind else None
        plan = item.get("betalingsregeling") if isinstance(item.get("betalingsregeling"), dict) else {}
        found.append(
            Debt(
                holder_oin=holder.oin,
                creditor=holder.name,
                type_id=DEBTS,
                name=names.get(index + 1) or holder.name,
                reference=_text(item.get("kenmerk")),
                what_for=words or _text(item.get("omschrijving")),
                original=_cents(item.get("oorspronkelijkBedragInCenten")),
                outstanding=owed,
                due=parse_day(item.get("vervaldatum")),
                late_since=late.get(f"{DEBTS}.{index}.vervaldatum"),
                arrangement=plan.get("actief") is True,
                monthly=_cents(plan.get("bedragPerMaandInCenten")) if plan.get("actief") is True else None,
                pay_to=_pay_to(item.get("betaalwijze")),
                phone=phone,
                website=website,
                object_via=_https(item.get("bezwaarVia")),
                object_until=parse_day(item.get("bezwaarTot")),
                object_passed=f"{DEBTS}.{index}.bezwaarTot" in passed,
            )
        )
    return found


def _first(query: Mapping[str, Any], name: str) -> str:
    value = query.get(name, "")
    return value if isinstance(value, str) and len(value) <= MAX_PARAMETER else ""


def choose(query: Mapping[str, Any], creditors: Iterable[str]) -> View:
    """The view the GET parameters ask for; a value outside its allow-list means the default."""
    sort, creditor, arrangement = _first(query, "sorteer"), _first(query, "schuldeiser"), _first(query, "regeling")
    return View(
        sort=sort if sort in SORTS else SORTS[0],
        creditor=creditor if creditor in set(creditors) else "",
        only_late=_first(query, "te-laat") == ONLY_LATE,
        arrangement=arrangement if arrangement in ARRANGEMENTS else ARRANGEMENTS[0],
    )


def _sort_key(sort: str) -> Any:
    far = date.max  # a debt without a due date comes last
    if sort == "bedrag":
        return lambda d: (-d.outstanding, d.due or far, d.creditor.casefold())
    if sort == "schuldeiser":
        return lambda d: (d.creditor.casefold(), d.due or far, -d.outstanding)
    return lambda d: (d.due or far, d.creditor.casefold(), -d.outstanding)


def shown(debts: Iterable[Debt], view: View) -> list[Debt]:
    """The debts that pass ``view``'s filters, in its order."""
    kept = [
        d
        for d in debts
        if (not view.creditor or d.holder_oin == view.creditor)
        and (not view.only_late or d.overdue)
        and (not view.arrangement or d.arrangement == (view.arrangement == "met"))
    ]
    return sorted(kept, key=_sort_key(view.sort))


def subject(claims: Mapping[str, Any]) -> str | None:
    """Whom the copies are about, from a copy's name and birth date, when it has them."""
    name = claims.get("naam") if isinstance(claims.get("naam"), dict) else {}
    words = [name.get(k) for k in ("voornamen", "voorvoegsel", "geslachtsnaam") if isinstance(name.get(k), str)]
    born = parse_day(claims["geboorte"].get("datum")) if isinstance(claims.get("geboorte"), dict) else None
    if not words:
        return None
    named = " ".join(words)
    return named + ", " + _("geboren op %(day)s") % {"day": formats.date_format(born, "j F Y")} if born else named


def totals(debts: Iterable[Debt]) -> list[CreditorTotal]:
    """What is still owed per organisation, by name."""
    by_holder: dict[str, tuple[str, int, int]] = {}
    for d in debts:
        name, count, owed = by_holder.get(d.holder_oin, (d.creditor, 0, 0))
        by_holder[d.holder_oin] = (name, count + 1, owed + d.outstanding)
    found = [CreditorTotal(oin, name, count, owed) for oin, (name, count, owed) in by_holder.items()]
    return sorted(found, key=lambda total: total.name.casefold())


def answers(
    holders: Iterable[Participant],
    outcomes: Mapping[str, str],
    delivered: Mapping[str, set[str]],
    creditors: Iterable[str],
) -> Answers:
    """Every holder of debts sorted by what it said: no debts, no complete answer, or not asked at all.

    ``outcomes`` is each holder's last answer (a ``SessionCopies.Outcome`` value; no entry: never asked);
    ``delivered`` the debt types each one gave a copy of or said it has none of; ``creditors`` the OINs
    with debts in the list (neither "without debts" nor missing).
    """
    sorted_into: dict[str, set[str]] = {"none": set(), "unanswered": set(), "not_asked": set()}
    with_debts = set(creditors)
    for holder in holders:
        issued = set(DEBT_TYPES) & set(holder.document_types)
        if not issued:
            continue
        outcome = outcomes.get(holder.oin)
        complete = outcome == NOTHING or (outcome == FETCHED and issued <= delivered.get(holder.oin, set()))
        if not holder.is_certified or (outcome is not None and not complete):  # a suspended one cannot answer
            sorted_into["unanswered"].add(holder.name)
        elif outcome is None:
            sorted_into["not_asked"].add(holder.name)
        elif holder.oin not in with_debts:
            sorted_into["none"].add(holder.name)
    by_name = {key: sorted(names, key=str.casefold) for key, names in sorted_into.items()}
    return Answers(by_name["none"], by_name["unanswered"], by_name["not_asked"])


def overview(
    holders: Mapping[str, Participant],
    catalogue: Catalogue,
    copies: Mapping[tuple[str, str], dict[str, Any]],
    outcomes: Mapping[str, str],
    delivered: Mapping[str, set[str]],
    query: Mapping[str, Any],
    today: date,
) -> Overview:
    """The debt overview of ``copies`` ({(holder OIN, document type): claims}) as ``query`` asks to see it.

    ``holders`` are the holders in the scheme by OIN, certified or suspended: the copies of a suspended one
    are left out (the scheme no longer vouches for it), but it is named as missing. A copy of another
    organisation, or not of a debt type, is left out too. Each copy is read with the catalogue version it
    was issued under (its ``vct``), so an older copy keeps its own words.
    """
    every = [
        debt
        for (oin, type_id), claims in copies.items()
        if type_id in DEBT_TYPES and oin in holders and holders[oin].is_certified
        if (document_type := data_page.copy_type(catalogue, type_id, claims)) is not None
        for debt in debts_of(holders[oin], document_type, claims, today)
    ]
    creditors = totals(every)
    view = choose(query, (c.oin for c in creditors))
    listed = shown(every, view)
    return Overview(
        debts=listed,
        creditors=creditors,
        total=sum(d.outstanding for d in every),
        shown_total=sum(d.outstanding for d in listed),
        count=len(every),
        answers=answers(holders.values(), outcomes, delivered, (c.oin for c in creditors)),
        view=view,
    )
