"""The citizen's vault: kept only when asked, unreadable in the database, really deleted, every page without JS."""

import io
import json
import threading
import zipfile

import lxml.html
import pytest
from asgiref.sync import async_to_sync
from cryptography.exceptions import InvalidTag
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.utils import timezone

from blauweknop import document_types
from blauweknop.display import rows
from blauweknop.holder.models import IssuedCredential, SourceRecord
from blauweknop.portal import vault
from blauweknop.portal.holders import Citizen
from blauweknop.portal.models import SessionCopies, VaultCopy, VaultKey
from blauweknop.portal.verification import status_lists, verify_credential
from blauweknop.protocol import sdjwt, sdjwt_vc
from blauweknop.protocol.jwk import SigningKey, generate_jwk
from blauweknop.pseudonyms import pseudonym
from blauweknop.scheme.client import scheme_client
from tests.portal.conftest import scheme_lists_another_key

from .conftest import BELASTING, GEMEENTE, log_in

pytestmark = pytest.mark.django_db(transaction=True)

NOT_FETCHED = "U kunt alleen gegevens bewaren die u net hebt opgehaald."


def _press(client, oin):
    assert client.post(f"/organisaties/{oin}/blauwe-knop/").status_code == 302


def _session_copies(client, oin):
    """What the data page of ``oin`` offers to keep: its form's ``kopie`` values."""
    page = client.get(f"/organisaties/{oin}/gegevens/").content.decode()
    form = page[page.index('action="/kluis/bewaren/"') :]
    form = form[: form.index("</form>")]
    return [part.split('"')[0] for part in form.split('name="kopie" value="')[1:]]


def _keep(client, *values, **extra):
    return client.post("/kluis/bewaren/", {"kopie": list(values), **extra})


def _page(client):
    response = client.get("/kluis/")
    assert response.status_code == 200
    return response.content.decode()


def _messages(client, response):
    """The page a POST sent the citizen to, with its messages."""
    assert response.status_code == 302, response.status_code
    return client.get(response["Location"]).content.decode()


def _raw_rows():
    """Everything the vault's two tables hold, as the database gives it: the view of whoever has a dump."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM portal_kluiskopieen")
        copies = cursor.fetchall()
        cursor.execute("SELECT * FROM portal_kluissleutels")
        keys = cursor.fetchall()
    return copies, keys


def _as_bytes(rows):
    out = b""
    for row in rows:
        for value in row:
            out += bytes(value) if isinstance(value, (bytes, memoryview)) else str(value).encode()
            out += b"\x00"
    return out


def _values(claims):
    """Every leaf value in ``claims`` that is long enough to be recognised in a dump."""
    if isinstance(claims, dict):
        for value in claims.values():
            yield from _values(value)
    elif isinstance(claims, list):
        for value in claims:
            yield from _values(value)
    elif not isinstance(claims, bool) and len(str(claims)) >= 4:
        yield str(claims)


@pytest.fixture
def kept(citizen):
    """The logged-in citizen with both organisations' copies fetched and kept."""
    _press(citizen, BELASTING)
    _press(citizen, GEMEENTE)
    values = _session_copies(citizen, BELASTING) + _session_copies(citizen, GEMEENTE)
    assert len(values) >= 2
    _messages(citizen, _keep(citizen, *values))
    assert VaultCopy.objects.count() == len(values)
    return citizen


def _other(bsn):
    other = Client()
    assert log_in(other, bsn).status_code == 302
    return other


@pytest.fixture
def other_bsn(demo_world, citizen_bsn):
    bsns = SourceRecord.objects.filter(holder_oin=BELASTING).exclude(bsn=citizen_bsn).values_list("bsn", flat=True)
    return bsns.first()


def test_it_keeps_nothing_without_being_asked(citizen):
    _press(citizen, BELASTING)
    _press(citizen, GEMEENTE)
    citizen.get("/overzicht/")
    citizen.get(f"/organisaties/{BELASTING}/gegevens/")
    assert VaultCopy.objects.count() == 0 and VaultKey.objects.count() == 0


def test_the_data_page_offers_to_keep_every_copy_it_shows(citizen):
    _press(citizen, BELASTING)
    assert _session_copies(citizen, BELASTING) == [f"{BELASTING}:inkomen", f"{BELASTING}:vorderingen"]


def test_a_kept_copy_shows_with_its_organisation_type_dates_and_validity(citizen):
    _press(citizen, BELASTING)
    back = f"/organisaties/{BELASTING}/gegevens/"
    response = _keep(citizen, f"{BELASTING}:inkomen", terug=back)
    assert response["Location"] == back
    assert "De kopie staat nu in uw kluis." in _messages(citizen, response)
    page = _page(citizen)
    assert "Belastingkantoor Voorbeeldland" in page and "Inkomen" in page
    assert f'data-kopie="{BELASTING}:inkomen" data-staat="geldig"' in page
    assert "Geldig tot" in page and "Opgehaald op" in page


def test_the_empty_vault_says_what_it_is_for_and_how_to_fill_it(citizen):
    page = _page(citizen)
    assert "Uw kluis is leeg." in page and "Bewaar in mijn kluis" in page


def test_the_database_holds_neither_the_copy_nor_any_value_nor_the_bsn(kept, citizen_bsn):
    dump = _as_bytes(_raw_rows()[0]) + _as_bytes(_raw_rows()[1])
    assert citizen_bsn.encode() not in dump
    assert pseudonym(citizen_bsn).encode() in dump  # the rows are the citizen's, by pseudonym
    for opened in vault.copies(_citizen(citizen_bsn)):
        assert opened.credential.encode() not in dump
        issuer_jwt, disclosures, _kb = sdjwt.split(opened.credential)
        for part in [issuer_jwt, *disclosures]:
            assert part.encode() not in dump
        values = list(_values(sdjwt.unverified_claims(opened.credential)))
        assert values
        for value in values:
            assert value.encode() not in dump, value
        assert opened.wallet_jwk["d"].encode() not in dump


def _scheme():
    return async_to_sync(scheme_client.current)()


def _citizen(bsn):
    return Citizen(bsn, "midden", SigningKey(generate_jwk()).public_jwk)


def test_the_wrapped_key_opens_only_with_the_secret_and_that_citizens_bsn(kept, citizen_bsn, other_bsn):
    who = pseudonym(citizen_bsn)
    wrapped = bytes(VaultKey.objects.get(citizen=who).wrapped)
    for secret, bsn in [(settings.VAULT_KEY, other_bsn), ("another-secret", citizen_bsn), ("", citizen_bsn)]:
        with pytest.raises(InvalidTag):
            vault.unwrap(vault.key_encryption_key(secret, bsn), wrapped, who)
    data_key = vault.unwrap(vault.key_encryption_key(settings.VAULT_KEY, citizen_bsn), wrapped, who)
    row = VaultCopy.objects.filter(citizen=who).first()
    plain = vault.unseal(
        data_key, bytes(row.sealed), vault.copy_data(who, row.holder_oin, row.document_type), vault.COPY_VERSION
    )
    assert sdjwt.unverified_claims(json.loads(plain)["verklaring"])["iss"]


def test_two_citizens_rows_cannot_be_swapped(kept, citizen_bsn, other_bsn):
    other = _other(other_bsn)
    _press(other, BELASTING)
    _messages(other, _keep(other, f"{BELASTING}:inkomen"))
    mine = VaultCopy.objects.get(citizen=pseudonym(citizen_bsn), holder_oin=BELASTING, document_type="inkomen")
    theirs = VaultCopy.objects.get(citizen=pseudonym(other_bsn), holder_oin=BELASTING, document_type="inkomen")
    # Whoever can write the database moves the other citizen's sealed copy into this citizen's row.
    VaultCopy.objects.filter(pk=mine.pk).update(sealed=bytes(theirs.sealed))
    with pytest.raises(vault.Unreadable):
        vault.copies(_citizen(citizen_bsn))
    page = _page(kept)
    assert "Uw kluis kan nu niet worden geopend." in page
    assert vault.copies(_citizen(other_bsn))  # theirs still opens
    # Nor does the other citizen's wrapped key, moved into this citizen's row, open anything.
    VaultCopy.objects.filter(pk=mine.pk).update(sealed=bytes(mine.sealed))
    assert vault.copies(_citizen(citizen_bsn))
    VaultKey.objects.filter(citizen=pseudonym(citizen_bsn)).update(
        wrapped=bytes(VaultKey.objects.get(citizen=pseudonym(other_bsn)).wrapped)
    )
    with pytest.raises(vault.Unreadable):
        vault.copies(_citizen(citizen_bsn))


def test_a_copy_moved_to_another_type_does_not_open(kept, citizen_bsn):
    who = pseudonym(citizen_bsn)
    income = VaultCopy.objects.get(citizen=who, holder_oin=BELASTING, document_type="inkomen")
    VaultCopy.objects.filter(citizen=who, holder_oin=BELASTING, document_type="vorderingen").update(
        sealed=bytes(income.sealed)
    )
    with pytest.raises(vault.Unreadable):
        vault.copies(_citizen(citizen_bsn))


def test_it_refuses_a_copy_not_fetched_in_this_session(citizen):
    page = _messages(citizen, _keep(citizen, f"{BELASTING}:inkomen"))
    assert NOT_FETCHED in page
    _press(citizen, BELASTING)
    # One not fetched among fetched ones: nothing is kept, not even those.
    page = _messages(citizen, _keep(citizen, f"{BELASTING}:inkomen", f"{GEMEENTE}:persoonsgegevens"))
    assert NOT_FETCHED in page
    assert VaultCopy.objects.count() == 0


def test_it_refuses_another_citizens_copy(citizen, other_bsn):
    other = _other(other_bsn)
    _press(other, GEMEENTE)
    assert NOT_FETCHED in _messages(citizen, _keep(citizen, f"{GEMEENTE}:persoonsgegevens"))
    assert VaultCopy.objects.count() == 0


@pytest.mark.parametrize(
    ("values", "said"),
    [
        ([], "Kies eerst welke gegevens u wilt bewaren."),
        ([""], NOT_FETCHED),
        ([":"], NOT_FETCHED),
        (["::::"], NOT_FETCHED),
        (["x" * 10_000], NOT_FETCHED),
        (["\x00\u202e"], NOT_FETCHED),
        ([f"{BELASTING}:../../inkomen"], NOT_FETCHED),
        ([f"{BELASTING}:inkomen:extra"], NOT_FETCHED),
        ([f"{BELASTING}:soort-{n}" for n in range(900)], "Dat zijn te veel kopieën tegelijk."),
    ],
    ids=["none", "empty", "colon", "colons", "long", "control", "path", "extra", "900-others"],
)
def test_hostile_kopie_values_get_a_clear_error_never_a_500(citizen, values, said):
    _press(citizen, BELASTING)
    assert said in _messages(citizen, _keep(citizen, *values))
    assert VaultCopy.objects.count() == 0


def test_the_same_copy_sent_900_times_is_kept_once(citizen):
    _press(citizen, BELASTING)
    assert "De kopie staat nu in uw kluis." in _messages(citizen, _keep(citizen, *[f"{BELASTING}:inkomen"] * 900))
    assert VaultCopy.objects.count() == 1


def test_ten_thousand_kopie_values_get_a_clear_error_never_a_500(citizen):
    _press(citizen, BELASTING)
    page = _messages(citizen, _keep(citizen, *[f"{BELASTING}:inkomen"] * 10_000))
    assert "Dat zijn te veel kopieën tegelijk." in page
    assert VaultCopy.objects.count() == 0


def test_ten_thousand_fields_past_the_csrf_check_get_a_page_that_says_what_to_do(demo_world):
    # A browser's form is read first by the CSRF check, which refuses a form it cannot read with 400.
    browser = Client(enforce_csrf_checks=True)
    browser.get("/inloggen/")  # the CSRF cookie, as a browser has it
    token = browser.cookies["csrftoken"].value
    response = browser.post("/kluis/bewaren/", {"kopie": ["x"] * 10_000, "csrfmiddlewaretoken": token})
    assert response.status_code == 400
    assert "Dit kunnen we niet lezen" in response.content.decode()


def test_it_goes_back_only_to_a_page_of_this_site(citizen):
    _press(citizen, BELASTING)
    for hostile in ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)", "gegevens"]:
        response = _keep(citizen, f"{BELASTING}:inkomen", terug=hostile)
        assert response["Location"] == "/kluis/", hostile


def test_it_refuses_more_than_fit_and_keeps_nothing_of_them(citizen, monkeypatch):
    monkeypatch.setattr(vault, "MAX_COPIES", 1)
    _press(citizen, BELASTING)
    _messages(citizen, _keep(citizen, f"{BELASTING}:inkomen"))
    page = _messages(citizen, _keep(citizen, f"{BELASTING}:vorderingen"))
    assert "Uw kluis is vol" in page
    assert list(VaultCopy.objects.values_list("document_type", flat=True)) == ["inkomen"]
    # Keeping the same copy again replaces it: it does not count twice.
    assert "De kopie staat nu in uw kluis." in _messages(citizen, _keep(citizen, f"{BELASTING}:inkomen"))


def test_two_keeps_of_the_same_copy_at_once_leave_one_row_and_one_key(citizen, citizen_bsn):
    _press(citizen, BELASTING)
    credential = SessionCopies.objects.get(holder_oin=BELASTING).credentials["inkomen"]
    fresh = vault.Kept(BELASTING, "inkomen", credential, generate_jwk(), timezone.now())
    who, errors = _citizen(citizen_bsn), []

    def keep():
        try:
            vault.store(who, [fresh])
        except Exception as exc:  # any failure fails the test below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=keep) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert VaultCopy.objects.count() == 1 and VaultKey.objects.count() == 1
    assert vault.copies(who)[0].credential == fresh.credential


def test_a_refresh_replaces_the_copy_with_a_fresh_one_that_verified(kept, citizen_bsn):
    who = pseudonym(citizen_bsn)
    before = VaultCopy.objects.get(citizen=who, holder_oin=BELASTING, document_type="inkomen")
    untouched = VaultCopy.objects.get(citizen=who, holder_oin=GEMEENTE, document_type="persoonsgegevens")
    page = _messages(kept, kept.post("/kluis/vernieuwen/", {"kopie": f"{BELASTING}:inkomen"}))
    assert "De kopie is vernieuwd." in page
    after = VaultCopy.objects.get(pk=before.pk)
    assert bytes(after.sealed) != bytes(before.sealed) and after.fetched_at > before.fetched_at
    assert bytes(VaultCopy.objects.get(pk=untouched.pk).sealed) == bytes(untouched.sealed)
    fresh = next(c for c in vault.copies(_citizen(citizen_bsn)) if c.type_id == "inkomen")
    verify_credential(fresh.credential, _scheme())


def test_an_unverifiable_fresh_copy_does_not_replace_the_kept_one(kept, citizen_bsn):
    who = pseudonym(citizen_bsn)
    before = {row.pk: bytes(row.sealed) for row in VaultCopy.objects.filter(citizen=who)}
    scheme_lists_another_key(BELASTING)
    page = _messages(kept, kept.post("/kluis/vernieuwen/", {"alles": "1"}))
    assert "Belastingkantoor Voorbeeldland stuurde gegevens die we niet konden controleren." in page
    after = {row.pk: bytes(row.sealed) for row in VaultCopy.objects.filter(citizen=who)}
    assert {pk for pk in before if before[pk] == after[pk]} >= {
        row.pk for row in VaultCopy.objects.filter(citizen=who, holder_oin=BELASTING)
    }


def test_a_copy_superseded_at_its_holder_shows_as_superseded(kept, citizen_bsn):
    record = SourceRecord.objects.get(holder_oin=BELASTING, document_type="inkomen", bsn=citizen_bsn)
    record.data = {**record.data, "toetsingsinkomenInCenten": record.data["toetsingsinkomenInCenten"] + 1}
    record.save()
    _press(kept, BELASTING)  # a new copy: the kept one is superseded now
    page = _page(kept)
    assert f'data-kopie="{BELASTING}:inkomen" data-staat="vervangen"' in page
    assert "Vervangen door nieuwere gegevens. De organisatie heeft de gegevens veranderd" in page
    assert f'data-kopie="{GEMEENTE}:persoonsgegevens" data-staat="geldig"' in page


def test_delete_one_asks_first_then_leaves_the_others(kept, citizen_bsn):
    count = VaultCopy.objects.count()
    asked = kept.post("/kluis/verwijderen/", {"kopie": f"{BELASTING}:inkomen"})
    assert asked.status_code == 200 and "Weet u het zeker?" in asked.content.decode()
    assert VaultCopy.objects.count() == count
    page = _messages(kept, kept.post("/kluis/verwijderen/", {"kopie": f"{BELASTING}:inkomen", "zeker": "ja"}))
    assert "De kopie is verwijderd uit uw kluis." in page
    left = set(VaultCopy.objects.values_list("holder_oin", "document_type"))
    assert len(left) == count - 1 and (BELASTING, "inkomen") not in left
    assert VaultKey.objects.filter(citizen=pseudonym(citizen_bsn)).exists()


def test_delete_all_leaves_no_copy_and_no_key_and_the_other_citizens_vault_untouched(kept, citizen_bsn, other_bsn):
    other = _other(other_bsn)
    _press(other, BELASTING)
    _messages(other, _keep(other, f"{BELASTING}:inkomen"))
    theirs = _raw_rows()
    theirs = [row for rows in theirs for row in rows if pseudonym(other_bsn) in row]
    asked = kept.post("/kluis/verwijderen/", {"alles": "1"})
    assert "Weet u het zeker?" in asked.content.decode()
    page = _messages(kept, kept.post("/kluis/verwijderen/", {"alles": "1", "zeker": "ja"}))
    assert "Alles is verwijderd. Uw kluis is nu leeg." in page
    assert not VaultCopy.objects.filter(citizen=pseudonym(citizen_bsn)).exists()
    assert not VaultKey.objects.filter(citizen=pseudonym(citizen_bsn)).exists()
    assert [row for rows in _raw_rows() for row in rows if pseudonym(other_bsn) in row] == theirs
    assert vault.copies(_citizen(other_bsn))


def test_it_refuses_to_delete_or_refresh_a_copy_not_in_the_vault(kept):
    for url in ["/kluis/verwijderen/", "/kluis/vernieuwen/"]:
        for value in [f"{BELASTING}:onbekend", "garbage", ""]:
            page = _messages(kept, kept.post(url, {"kopie": value, "zeker": "ja"}))
            assert "Die kopie staat niet in uw kluis." in page


def test_download_all_holds_exactly_the_kept_copies_each_verifying(kept, citizen_bsn):
    response = kept.post("/kluis/downloaden/")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = archive.namelist()
    assert "LEESMIJ.txt" in names
    files = sorted(n for n in names if n.endswith(".sdjwt"))
    kept_copies = vault.copies(_citizen(citizen_bsn))
    assert len(files) == len(kept_copies)
    assert sorted(archive.read(n).decode() for n in files) == sorted(c.credential for c in kept_copies)
    scheme = _scheme()
    for name in files:
        verify_credential(archive.read(name).decode(), scheme)
    assert "belastingkantoor-voorbeeldland-inkomen-" in " ".join(files) or any("inkomen" in n for n in files)
    readme = archive.read("LEESMIJ.txt").decode()
    assert all(name in readme for name in files)
    assert "http://testserver/controleren/" in readme


def test_every_page_needs_a_login(client, demo_world):
    assert client.get("/kluis/")["Location"].startswith("/inloggen/")
    for url in [
        "/kluis/bewaren/",
        "/kluis/vernieuwen/",
        "/kluis/verwijderen/",
        "/kluis/downloaden/",
        "/kluis/bekijken/",
    ]:
        assert client.post(url)["Location"].startswith("/inloggen/")
    assert VaultCopy.objects.count() == 0


def test_a_refresh_of_one_copy_asks_its_holder_for_that_type_only(kept):
    # The holder records every copy it issues as a read of the citizen's data: ask only for what is refreshed.
    issued = {t: IssuedCredential.objects.filter(document_type=t).count() for t in ("inkomen", "vorderingen")}
    _messages(kept, kept.post("/kluis/vernieuwen/", {"kopie": f"{BELASTING}:inkomen"}))
    assert IssuedCredential.objects.filter(document_type="inkomen").count() == issued["inkomen"] + 1
    assert IssuedCredential.objects.filter(document_type="vorderingen").count() == issued["vorderingen"]


def test_a_refresh_brings_back_no_copy_deleted_meanwhile(kept, citizen_bsn):
    who = _citizen(citizen_bsn)
    old = next(c for c in vault.copies(who) if c.type_id == "inkomen")
    vault.delete(who, BELASTING, "inkomen")
    assert vault.store(who, [old], only_replace=True) == []
    assert (BELASTING, "inkomen") not in vault.kept(who)


def test_a_status_list_out_of_reach_says_it_cannot_be_checked_now_asking_once_per_holder(kept, monkeypatch):
    asked = []

    def down(uri):
        asked.append(uri)
        raise OSError("down")

    monkeypatch.setattr(status_lists, "_fetch", down)
    status_lists.forget()
    cache.clear()
    page = _page(kept)
    assert page.count('data-staat="onbekend"') == VaultCopy.objects.count()
    assert "Kan nu niet worden nagekeken. Probeer het later nog eens." in page
    assert len(asked) == 2  # one per holder, not one per copy


def test_a_vault_that_does_not_open_can_still_be_deleted(kept, citizen_bsn):
    who = pseudonym(citizen_bsn)
    VaultKey.objects.filter(citizen=who).update(wrapped=b"\x01" + b"\x00" * 60)
    page = _page(kept)
    assert "Uw kluis kan nu niet worden geopend." in page and 'name="alles" value="1"' in page
    _messages(kept, kept.post("/kluis/verwijderen/", {"alles": "1", "zeker": "ja"}))
    assert not VaultCopy.objects.filter(citizen=who).exists() and not VaultKey.objects.filter(citizen=who).exists()


def test_a_refusal_is_logged_with_the_pseudonym_never_the_bsn(citizen, citizen_bsn, caplog):
    _keep(citizen, f"{BELASTING}:inkomen")
    logged = [r.getMessage() for r in caplog.records if r.name == "blauweknop.portal.vault_page"]
    assert logged and all(pseudonym(citizen_bsn) in line and citizen_bsn not in line for line in logged)


def test_the_vault_and_its_zip_speak_english_when_chosen(kept, settings):
    kept.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = _page(kept)
    assert "My vault" in page and "Valid now?" in page and "Refresh everything" in page
    archive = zipfile.ZipFile(io.BytesIO(kept.post("/kluis/downloaden/").content))
    assert "README.txt" in archive.namelist() and "LEESMIJ.txt" not in archive.namelist()
    assert "These are the certified copies from your vault" in archive.read("README.txt").decode()


def test_an_empty_vault_has_nothing_to_download(citizen):
    assert "Uw kluis is leeg. Er is niets om te downloaden." in _messages(citizen, citizen.post("/kluis/downloaden/"))


def test_the_same_copy_twice_in_one_store_is_kept_once(citizen, citizen_bsn):
    # PostgreSQL refuses an upsert that touches one row twice ("cannot affect row a second time").
    _press(citizen, BELASTING)
    credential = SessionCopies.objects.get(holder_oin=BELASTING).credentials["inkomen"]
    copy = vault.Kept(BELASTING, "inkomen", credential, generate_jwk(), timezone.now())
    vault.store(_citizen(citizen_bsn), [copy, copy])
    assert VaultCopy.objects.count() == 1


def _html(response):
    assert response.status_code == 200, response.status_code
    return lxml.html.fromstring(response.content.decode())


def _text(element):
    return " ".join(element.text_content().split())


def test_the_zip_button_warns_that_your_bsn_is_in_it_and_how_to_share_less(kept):
    page = _html(kept.get("/kluis/"))
    (button,) = page.xpath("//form[@action='/kluis/downloaden/']//button")
    (warning,) = page.xpath(f"//*[@id='{button.get('aria-describedby')}']")
    said = _text(warning)
    assert "Ook uw BSN" in said and "alleen aan iemand die u vertrouwt" in said
    assert "Open dan de pagina van de organisatie en kies welke gegevens u downloadt" in said
    # Next to the button: the warning comes right before the buttons.
    assert warning.getnext() is button.getparent().getparent()


def _shown_fields(page):
    return [
        (_text(item.xpath("dt")[0]), _text(item.xpath("dd")[0]))
        for item in page.xpath("//dl[contains(@class, 'blauweknop-vault-copy__fields')]/div")
    ]


def test_bekijken_shows_the_kept_copys_labels_and_values_as_issued_and_whether_it_is_valid(kept, citizen_bsn):
    copy = next(c for c in vault.copies(_citizen(citizen_bsn)) if c.type_id == "inkomen")
    claims = {k: v for k, v in sdjwt.unverified_claims(copy.credential).items() if k not in sdjwt_vc.PLAIN_CLAIMS}
    expected = [(row.label, row.value) for row in rows(document_types.of(_scheme()).get("inkomen"), claims)]
    assert expected
    record = SourceRecord.objects.get(holder_oin=BELASTING, document_type="inkomen", bsn=citizen_bsn)
    record.data = {**record.data, "toetsingsinkomenInCenten": record.data["toetsingsinkomenInCenten"] + 1}
    record.save()
    _press(kept, BELASTING)  # a new copy with the changed value: the kept one is superseded now
    page = _html(kept.get("/kluis/"))
    views = page.xpath("//form[@action='/kluis/bekijken/'][@method='post']//input[@name='kopie']/@value")
    assert len(views) == VaultCopy.objects.count(), "not every kept copy can be viewed"
    shown = _html(kept.post("/kluis/bekijken/", {"kopie": f"{BELASTING}:inkomen"}))
    assert _shown_fields(shown) == expected, "the kept copy's values, as issued"
    (about,) = shown.xpath("//dl[@data-kopie]")
    assert about.get("data-kopie") == f"{BELASTING}:inkomen" and about.get("data-staat") == "vervangen"
    assert "Vervangen door nieuwere gegevens" in _text(about)
    assert "Belastingkantoor Voorbeeldland" in _text(shown.xpath("//h1")[0])
    other = _html(kept.post("/kluis/bekijken/", {"kopie": f"{GEMEENTE}:persoonsgegevens"}))
    assert other.xpath("//dl[@data-kopie]/@data-staat") == ["geldig"] and _shown_fields(other)


def test_bekijken_refuses_a_copy_not_in_the_vault_and_a_get(kept, other_bsn):
    for value in [f"{BELASTING}:onbekend", "garbage", "", "../../etc"]:
        page = _messages(kept, kept.post("/kluis/bekijken/", {"kopie": value}))
        assert "Die kopie staat niet in uw kluis." in page
    assert kept.get("/kluis/bekijken/")["Location"] == "/kluis/"
    other = _other(other_bsn)  # another citizen cannot view this citizen's copy
    assert "Die kopie staat niet in uw kluis." in _messages(
        other, other.post("/kluis/bekijken/", {"kopie": f"{BELASTING}:inkomen"})
    )


def test_the_delete_all_question_says_how_many_copies_go(kept):
    count = VaultCopy.objects.count()
    asked = _html(kept.post("/kluis/verwijderen/", {"alles": "1"}))
    assert f"U verwijdert alle {count} kopieën uit uw kluis." in _text(asked)


def test_it_refuses_to_say_a_copy_holds_only_a_short_time_next_to_its_date(kept):
    page = _text(_html(kept.get("/kluis/")))
    assert "korte tijd" not in page
    assert "geldig tot de datum bij 'Geldig tot'" in page and "Vervangen door nieuwere gegevens" in page
    assert "Vernieuwen" in page
    archive = zipfile.ZipFile(io.BytesIO(kept.post("/kluis/downloaden/").content))
    readme = archive.read("LEESMIJ.txt").decode()
    assert "korte tijd" not in readme and "vervangen door nieuwere gegevens" in readme


def test_a_refresh_waits_for_a_slow_holder_no_longer_than_the_overview_does(kept, citizen_bsn, settings):
    """A holder that does not answer holds the vault's refresh up to the overview's timeout, not the client's 10 s."""
    import time

    from .stand_in import Answering, serving
    from .test_holder_failures import _move

    class Slow(Answering):
        def do_POST(self):
            time.sleep(4)
            self.answer(503, "application/problem+json", b"{}")

    settings.OVERVIEW_TIMEOUT = 1
    who = pseudonym(citizen_bsn)
    before = bytes(VaultCopy.objects.get(citizen=who, holder_oin=BELASTING, document_type="inkomen").sealed)
    with serving(Slow) as server:
        _move(BELASTING, f"http://127.0.0.1:{server.server_port}/belastingkantoor")
        started = time.monotonic()
        page = _messages(kept, kept.post("/kluis/vernieuwen/", {"kopie": f"{BELASTING}:inkomen"}))
        took = time.monotonic() - started
    assert took < 3, f"the refresh waited {took:.1f} s for a holder that did not answer"
    assert "niet bereikbaar" in page
    assert bytes(VaultCopy.objects.get(citizen=who, holder_oin=BELASTING, document_type="inkomen").sealed) == before
