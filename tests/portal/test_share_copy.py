"""The citizen's Plus pages say what is true, in plain words (the newcomer's review of the share pages).

The help page, the review page, the done page after each outcome, a link opened again, a code typed at the
wrong organisation, and the login page a request link leads to: in Dutch and in English.
"""

from __future__ import annotations

import html
import re
from datetime import timedelta
from urllib.parse import quote

from django.test import Client
from django.utils import formats, timezone

from blauweknop.holder.models import SourceRecord
from blauweknop.portal.models import Consent
from blauweknop.protocol import dcql, openid4vp
from tests.portal import test_share
from tests.portal.conftest import log_in
from tests.portal.consent_world import SPAARBANK
from tests.portal.test_share import CODE, INKOMEN, REQUESTER, _link, _open, _publish, _scheme

requester = test_share.requester  # the stand-in requester, serving request objects signed with the requester's key

NAME = "Woningcorporatie Thuisbasis"


def text(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())))


def _english(client) -> None:
    client.cookies["django_language"] = "en"


def _vct(type_id: str) -> str:
    return next(t["vct"] for t in _scheme().document_types if t["id"] == type_id)


def test_the_help_page_says_plus_works_and_where_to_enter_a_code(client, demo_world):
    page = client.get("/hulp/")
    words = text(page)
    assert "Ze werken alle drie." in words and "Plus: een organisatie vraagt om gegevens" in words
    assert "komt later" not in words and "werkt nog niet" not in words
    assert "Vul de code in op de pagina Gegevens delen." in words and "Mijn toestemmingen" in words
    assert 'href="/delen/"' in page.content.decode()
    _english(client)
    english = text(client.get("/hulp/"))
    assert "All three work now." in english and "Plus: an organisation asks for data" in english


def test_the_review_page_of_an_optional_type_asks_plainly_and_names_the_holders(citizen, requester):
    income = dcql.CredentialQuery(
        "inkomen", INKOMEN, (dcql.ClaimQuery("j", "belastingjaar", True),), multiple=False, required=True
    )
    address = dcql.CredentialQuery(
        "adres",
        _vct("persoonsgegevens"),
        (dcql.ClaimQuery("s", "adres.straat", True), dcql.ClaimQuery("p", "adres.postcode", False)),
        multiple=False,
        required=False,
    )
    review = _open(citizen, requester.ask(query=dcql.Query((income, address))))
    page = citizen.get(review).content.decode()
    optional = page[page.index('data-vraag="adres"') :]
    optional = optional[: optional.index("</section>")]
    assert "(nodig)" not in optional  # nothing is needed of a type the citizen may leave out
    assert "Uw adres delen? (mag u kiezen)" in optional
    assert f"Haalt u het vinkje weg? Dan krijgt {NAME} uw adres niet." in optional
    assert "Van Belastingkantoor Voorbeeldland." in text(citizen.get(review))  # the one holder of income
    assert "Van één organisatie" not in page
    assert "U ziet daarna welke gegevens zijn verstuurd." in page and "U krijgt te zien" not in page
    _english(citizen)
    english = text(citizen.get(review))
    assert "Afterwards you see which data was sent." in english
    assert "From Belastingkantoor Voorbeeldland." in english and "(your choice)" in english


def test_after_no_the_done_page_points_to_the_decision_not_to_withdrawing(citizen, requester):
    done = citizen.get(citizen.post(_open(citizen, requester.ask()), {"besluit": "nee"})["Location"])
    words = text(done)
    assert "In Mijn toestemmingen ziet u ook dat u nee zei." in words and "Bekijk uw besluit" in words
    assert "intrekken" not in words
    assert f'href="/toestemmingen/{Consent.objects.get().pk}/"' in done.content.decode()
    _english(citizen)
    assert "In My consents you also see that you said no." in text(citizen.get(done.wsgi_request.path))


def test_withdrawing_is_offered_after_standing_access_only(citizen, requester):
    once = text(citizen.get(citizen.post(_open(citizen, requester.ask()), {"besluit": "ja"})["Location"]))
    assert "Uw gegevens zijn gedeeld" in once and "intrekken" not in once
    assert "In Mijn toestemmingen ziet u ook wat u deelde, en met wie." in once
    until = timezone.localdate() + timedelta(days=30)
    review = _open(citizen, requester.ask("STANDING", access=openid4vp.STANDING, until=until))
    standing = text(citizen.get(citizen.post(review, {"besluit": "ja"})["Location"]))
    assert "Daar kunt u een toestemming ook intrekken." in standing


def test_a_debt_nobody_has_is_said_as_the_truth_not_as_a_failed_share(citizen, requester):
    SourceRecord.objects.filter(document_type="vorderingen").delete()  # no organisation has a debt of anyone
    debts = dcql.CredentialQuery(
        "schulden",
        _vct("vorderingen"),
        (dcql.ClaimQuery("k", "vorderingen.kenmerk", True),),
        multiple=True,  # from every holder
        required=True,
        arrays=frozenset({"vorderingen"}),
    )
    review = _open(citizen, requester.ask(query=dcql.Query((debts,))))
    done = citizen.get(citizen.post(review, {"besluit": "ja"})["Location"])
    words = text(done)
    assert "U heeft geen openstaande betalingen bij de organisaties die meedoen." in words
    assert f"Daarom is er niets gestuurd. Bel {NAME} en vertel dat." in words
    assert "Openstaande betalingen" not in words and "niet lukte" not in words and "intrekken" not in words
    assert requester.answers == []
    _english(citizen)
    assert "You have no outstanding payments at the organisations that take part." in text(
        citizen.get(done.wsgi_request.path)
    )


def test_a_link_answered_in_this_session_says_when(citizen, requester):
    uri = requester.ask()
    citizen.post(_open(citizen, uri), {"besluit": "nee"})
    again = citizen.get(_link(uri))
    day = formats.date_format(timezone.localdate(Consent.objects.get().decided_at), "j F Y")
    assert again.status_code == 200
    assert f"U heeft dit verzoek al beantwoord op {day}. Bekijk het in Mijn toestemmingen." in text(again)
    assert f'href="/toestemmingen/{Consent.objects.get().pk}/"' in again.content.decode()
    assert Consent.objects.count() == 1 and len(requester.answers) == 1


def test_a_link_the_requester_no_longer_knows_is_said_honestly(citizen, requester, citizen_bsn):
    uri = requester.ask()
    citizen.post(_open(citizen, uri), {"besluit": "nee"})
    del requester.objects[CODE]  # answered: the requester no longer serves it
    later = Client()  # another day, another login: this session never opened the link
    log_in(later, citizen_bsn)
    page = later.get(_link(uri))
    words = text(page)
    assert page.status_code == 404
    assert f"{NAME} kent dit verzoek niet (meer). Misschien is het al beantwoord of verlopen." in words
    assert f"Vraag {NAME} om een nieuwe link." in words
    assert f"Besliste u al eerder over een verzoek van {NAME}? Dat ziet u in Mijn toestemmingen." in words
    assert "kennen we niet bij" not in words


def test_a_right_code_at_the_wrong_organisation_says_to_check_the_organisation(citizen, requester):
    requester.ask()
    spaarbank = _scheme().organisations[SPAARBANK].name
    wrong = citizen.post("/delen/openen/", {"organisatie": SPAARBANK, "code": CODE})
    assert wrong.status_code == 404
    assert (
        f"{spaarbank} kent deze code niet. Koos u de goede organisatie? "
        "Kijk ook de code na: 8 letters en cijfers, bijvoorbeeld K7QM-2XRD."
    ) in text(wrong)
    _english(citizen)
    english = citizen.post("/delen/openen/", {"organisatie": SPAARBANK, "code": CODE})
    assert f"{spaarbank} does not know this code. Did you choose the right organisation?" in text(english)


def test_the_login_page_names_who_asks_behind_a_request_link(client, requester):
    link = _link(requester.ask())
    page = text(client.get(f"/inloggen/?next={quote(link, safe='')}"))
    assert f"{NAME} vraagt om uw gegevens. Log eerst in. Daarna ziet u wat zij vraagt. U deelt nog niets." in page
    _english(client)
    english = text(client.get(f"/inloggen/?next={quote(link, safe='')}"))
    assert f"{NAME} is asking for your data. Log in first." in english and "You share nothing yet." in english


def test_the_login_page_names_nobody_the_scheme_does_not_certify(client, requester):
    for next_url in (
        "/delen/?client_id=00000001003214345000&request_uri=x",  # a holder, not a requester
        f"/overzicht/?client_id={REQUESTER}",  # not a request link
        "/delen/?client_id=%3Cscript%3E",
    ):
        assert "vraagt om uw gegevens" not in text(client.get(f"/inloggen/?next={quote(next_url, safe='')}"))
    _publish(certification="suspended")
    assert "vraagt om uw gegevens" not in text(client.get(f"/inloggen/?next={quote(_link('x'), safe='')}"))
