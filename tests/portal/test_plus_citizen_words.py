"""The citizen's Plus pages after the second newcomer review (R5, R7, R9, R11-R14): what is asked, who is asked,
who fetched, what the receipt says, what a suspension and a withdrawal mean; in Dutch and in English."""

from __future__ import annotations

import asyncio
import html
import re
import shutil
import subprocess
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import formats, timezone

from blauweknop.holder.models import SourceRecord
from blauweknop.portal import consents, presenting
from blauweknop.portal.models import Consent, ConsentEvent
from blauweknop.protocol import dcql
from blauweknop.pseudonyms import pseudonym
from blauweknop.scheme.client import scheme_client
from tests.portal import test_share
from tests.portal.conftest import BELASTING, log_in
from tests.portal.consent_world import ASKED, SPAARBANK, citizen, given
from tests.portal.test_share import INKOMEN, _open, _publish, _scheme

requester = test_share.requester  # the stand-in requester, serving request objects signed with the requester's key

NAME = "Woningcorporatie Thuisbasis"


def text(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())))


def _english(client) -> None:
    client.cookies["django_language"] = "en"


def _vct(type_id: str) -> str:
    return next(t["vct"] for t in _scheme().document_types if t["id"] == type_id)


def _day(day) -> str:
    return formats.date_format(day, "j F Y")


def _pdf_words(content: bytes) -> str:
    pdftotext = shutil.which("pdftotext")
    assert pdftotext, "poppler-utils (pdftotext) must be installed by the test setup"
    return " ".join(
        subprocess.run([pdftotext, "-", "-"], input=content, capture_output=True, check=True).stdout.decode().split()
    )


def _rent_query() -> dcql.Query:
    """What the housing corporation's preset asks: income with the name (prefix optional), the address optional."""
    income = dcql.CredentialQuery(
        "inkomen",
        INKOMEN,
        (
            dcql.ClaimQuery("v", "naam.voornamen", True),
            dcql.ClaimQuery("t", "naam.voorvoegsel", False),
            dcql.ClaimQuery("a", "naam.geslachtsnaam", True),
            dcql.ClaimQuery("j", "belastingjaar", True),
        ),
        multiple=False,
        required=True,
    )
    address = dcql.CredentialQuery(
        "adres",
        _vct("persoonsgegevens"),
        tuple(dcql.ClaimQuery(p, f"adres.{p}", True) for p in ("straat", "huisnummer", "postcode", "woonplaats")),
        multiple=False,
        required=False,
    )
    return dcql.Query((income, address))


def _section(page: str, query_id: str) -> str:
    part = page[page.index(f'data-vraag="{query_id}"') :]
    return part[: part.index("</section>")]


def test_an_optional_address_is_asked_as_the_address_with_its_fields_under_one_tick_box(citizen, requester):
    review = _open(citizen, requester.ask(query=_rent_query()))
    page = citizen.get(review).content.decode()
    optional = html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", _section(page, "adres"))))
    assert "Uw adres delen? (mag u kiezen)" in optional
    assert "Dat is: straat, huisnummer, postcode en woonplaats." in optional
    assert f"Haalt u het vinkje weg? Dan krijgt {NAME} uw adres niet." in optional
    assert "Persoonsgegevens delen?" not in optional and "(nodig)" not in optional
    assert 'data-path="adres.straat"' not in _section(page, "adres")  # named under the box, not as bullets
    income = _section(page, "inkomen")
    prefix = income[income.rindex("<li", 0, income.index('data-path="naam.voorvoegsel"')) :]
    assert prefix.startswith('<li data-path="naam.voorvoegsel"')  # a tick box, and no bullet beside it
    assert re.search(r'<li class="utrecht-unordered-list__item" data-path="naam.voornamen"', income)  # needed: bullet
    _english(citizen)
    english = text(citizen.get(review))
    assert "Share your address? (your choice)" in english
    assert "That is: street, house number, postcode and town." in english
    assert f"Untick it? Then {NAME} does not get your address." in english


def test_leaving_the_address_out_shares_the_income_only_and_the_receipt_says_what_was_left_out(citizen, requester):
    review = _open(citizen, requester.ask(query=_rent_query()))
    done = citizen.post(review, {"besluit": "ja"})  # the address box and the prefix unticked
    assert done.status_code == 303
    consent = Consent.objects.get()
    assert set(consent.approved) == {"inkomen"}
    receipt = citizen.get(f"/toestemmingen/{consent.pk}/bewijs.pdf")
    words = _pdf_words(receipt.content)
    assert "U deelde niet" in words and "tussenvoegsel en uw adres" in words


def test_the_review_page_says_whom_it_asks_for_data_from_every_organisation(citizen, requester):
    debts = dcql.CredentialQuery(
        "schulden",
        _vct("vorderingen"),
        (dcql.ClaimQuery("k", "vorderingen.kenmerk", True),),
        multiple=True,
        required=True,
        arrays=frozenset({"vorderingen"}),
    )
    review = _open(citizen, requester.ask(query=dcql.Query((debts,))))
    holders = [p.name for p in presenting.holders_of(_scheme(), "vorderingen")]
    assert len(holders) >= 2  # two of everything: the list is a list
    page = text(citizen.get(review))
    said = f"Wij vragen dit aan {len(holders)} organisaties, als zij gegevens over u hebben: "
    assert said + ", ".join(holders[:-1]) + " en " + holders[-1] + "." in page
    assert page.index(said) < page.index("Ja, deel deze gegevens")
    assert "Van elke organisatie" not in page
    _english(citizen)
    assert f"We ask {len(holders)} organisations for this, if they have data about you: " in text(citizen.get(review))


def test_the_review_page_says_consent_and_the_two_periods_plainly(citizen, requester):
    page = text(citizen.get(_open(citizen, requester.ask())))
    assert "Mag dat? Alleen als u ja zegt. U beslist zelf." in page and "Uw toestemming." not in page
    assert f"Hoe lang bewaren zij het? 30 dagen. Daarna moet {NAME} uw gegevens verwijderen." in page
    assert f"Tot wanneer mogen zij opnieuw ophalen? Niet. {NAME} krijgt uw gegevens één keer." in page
    assert "Hoe lang?" not in page


def test_the_done_page_names_the_fields_that_were_sent_not_an_empty_prefix(citizen, requester, citizen_bsn):
    record = SourceRecord.objects.get(holder_oin=BELASTING, document_type="inkomen", bsn=citizen_bsn)
    record.data["naam"].pop("voorvoegsel", None)  # this citizen has no name prefix
    record.save()
    review = _open(citizen, requester.ask(query=_rent_query()))
    ticked = {"besluit": "ja", "veld-inkomen": ["naam.voorvoegsel"], "soort": ["adres"]}
    done = text(citizen.get(citizen.post(review, ticked)["Location"]))
    assert "Voornamen" in done and "Achternaam" in done and "Straat" in done
    assert "Tussenvoegsel" not in done
    (delivery,) = ConsentEvent.objects.filter(kind=ConsentEvent.Kind.DELIVERED)
    assert "naam.voorvoegsel" not in delivery.detail["velden"]["inkomen"]  # the register says what was given too


@pytest.fixture
def mine(demo_world, two_citizen_bsns):
    """A logged-in citizen with a standing consent: shared on their yes, fetched again later; and another's."""
    bsn, other = two_citizen_bsns
    client = Client()
    assert log_in(client, bsn).status_code == 302
    consent, _ = given(citizen(bsn), days=60)
    delivered = {"houders": {"inkomen": [BELASTING]}, "velden": {"inkomen": list(ASKED)}}
    consents.delivered(consent, delivered)
    consents.delivered(consent, delivered)
    theirs, _ = given(citizen(other), SPAARBANK)
    consents.delivered(theirs, delivered)
    return client, Consent.objects.get(pk=consent.pk)


def test_a_fetch_again_reads_apart_from_the_citizens_own_share(mine):
    client, consent = mine
    page = text(client.get(f"/toestemmingen/{consent.pk}/"))
    last = timezone.localdate(consent.valid_until - timedelta(microseconds=1))
    assert f"{NAME} haalde uw gegevens opnieuw op. Dat mag tot en met {_day(last)}." in page
    assert f"U deelde uw gegevens met {NAME}" in page
    assert "Gegevens gedeeld" not in page and "Waar vandaan" in page and "Van wie" not in page
    client.post(f"/toestemmingen/{consent.pk}/intrekken/")
    after = text(client.get(f"/toestemmingen/{consent.pk}/"))
    assert f"{NAME} haalde uw gegevens opnieuw op." in after and "Dat mag tot en met" not in after
    _english(client)
    assert f"{NAME} fetched your data again." in text(client.get(f"/toestemmingen/{consent.pk}/"))


def test_withdrawing_says_until_when_the_requester_may_keep_what_it_got(mine):
    client, consent = mine
    last_delivery = consent.events.filter(kind=ConsentEvent.Kind.DELIVERED).order_by("at").last().at
    kept = _day(timezone.localdate(last_delivery) + timedelta(days=consent.retention_days))
    said = f"Wat {NAME} al kreeg, mag zij houden tot en met {kept}. Daarna moet zij het verwijderen."
    assert said in text(client.get(f"/toestemmingen/{consent.pk}/intrekken/"))
    after = text(client.get(client.post(f"/toestemmingen/{consent.pk}/intrekken/")["Location"]))
    assert said in after and "zolang de bewaartermijn loopt" not in after
    _english(client)
    assert "it may keep until and including" in text(client.get(f"/toestemmingen/{consent.pk}/"))


def test_withdrawing_before_anything_was_given_says_so(demo_world, citizen_bsn):
    client = Client()
    log_in(client, citizen_bsn)
    consent, _ = given(citizen(citizen_bsn))
    assert f"{NAME} kreeg nog geen gegevens van u." in text(client.get(f"/toestemmingen/{consent.pk}/intrekken/"))


def test_a_running_consent_of_a_suspended_requester_says_nothing_may_be_fetched_now(mine, requester):
    client, consent = mine
    said = f"{NAME} mag op dit moment niets ophalen. De beheerder van de Blauwe Knop heeft haar geschorst."
    assert said not in text(client.get("/toestemmingen/"))
    _publish(certification="suspended")
    assert said in text(client.get("/toestemmingen/")) and said in text(client.get(f"/toestemmingen/{consent.pk}/"))
    client.post(f"/toestemmingen/{consent.pk}/intrekken/")
    assert said not in text(client.get(f"/toestemmingen/{consent.pk}/"))  # nothing runs any more


def test_the_receipt_pdf_says_when_it_was_decided_and_withdrawn_as_the_page_words_it(mine):
    client, consent = mine
    client.post(f"/toestemmingen/{consent.pk}/intrekken/")
    ended = Consent.objects.get(pk=consent.pk).ended_at
    receipt = client.get(f"/toestemmingen/{consent.pk}/bewijs.pdf")
    words = _pdf_words(receipt.content)
    moment = timezone.localtime(ended)
    assert f"Ingetrokken op {_day(moment)} om {moment:%H:%M}" in words
    decided = timezone.localtime(consent.decided_at)
    assert f"{_day(decided)} om {decided:%H:%M}" in words
    assert "Tot wanneer" in words and "Hoe vaak" not in words
    assert "U deelde niet" not in words  # everything asked was shared


def test_who_saw_my_data_links_to_my_consents(mine):
    client, _ = mine
    page = client.get("/mijn-inzage/").content.decode()
    content = page[page.index('id="inhoud"') : page.index("</main>")]  # the page itself, not its footer
    assert 'href="/toestemmingen/"' in content
    assert "Dat ziet u in Mijn toestemmingen. Daar kunt u ook stoppen." in text(client.get("/mijn-inzage/"))
    _english(client)
    assert "You see that in My consents. There you can also stop." in text(client.get("/mijn-inzage/"))


def test_a_share_recorded_by_the_holders_links_to_its_own_consent(demo_world, citizen_bsn, requester):
    client = Client()
    log_in(client, citizen_bsn)
    review = _open(client, requester.ask())
    client.post(review, {"besluit": "ja"})
    consent = Consent.objects.get(citizen=pseudonym(citizen_bsn))
    page = client.get("/mijn-inzage/").content.decode()
    row = page[page.index(f"Gedeeld met {NAME}") :]
    row = row[: row.index("</tr>")]
    assert f'href="/toestemmingen/{consent.pk}/"' in row and "Bekijk deze toestemming" in row
    assert client.get(f"/toestemmingen/{consent.pk}/").status_code == 200


def _check_file(client, content: bytes):
    return client.post("/controleren/", {"bestand": SimpleUploadedFile("toestemming.pdf", content)})


def test_the_receipt_pdf_is_recognised_on_the_verify_page_as_a_proof_of_consent(mine):
    client, consent = mine
    receipt = client.get(f"/toestemmingen/{consent.pk}/bewijs.pdf").content
    portal = asyncio.run(scheme_client.current()).app_managers[settings.PORTAL_OIN].name
    anyone = Client()  # the housing corporation checks what the citizen gave it: no login
    page = _check_file(anyone, receipt)
    words = text(page)
    assert page.status_code == 200
    today = _day(timezone.localdate())
    assert f"Dit is een bewijs van toestemming. {portal} heeft het gemaakt op {today}. Het is niet veranderd." in words
    assert f"Het gaat over een toestemming voor {NAME}." in words
    assert "Hoe het nu staat, ziet u in Mijn toestemmingen." in words
    assert "Niet geldig" not in words and "Een overzicht uit de Blauwe Knop" not in words and "beschadigd" not in words
    _english(anyone)
    assert "This is a proof of consent." in text(_check_file(anyone, receipt))


def test_a_changed_receipt_pdf_is_refused_as_changed(mine):
    client, consent = mine
    receipt = client.get(f"/toestemmingen/{consent.pk}/bewijs.pdf").content
    changed = receipt.replace(b"/Type", b"/Typf", 1)
    assert changed != receipt
    page = _check_file(Client(), changed)
    words = text(page)
    assert 'data-verdict="receipt"' not in page.content.decode() and "bewijs van toestemming" not in words
    assert "Niet geldig" in words or "veranderd" in words
    assert "Een overzicht uit de Blauwe Knop" not in words
