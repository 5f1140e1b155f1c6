"""manage.py admit_participant: the operator admits a participant from a JSON file, or refuses it whole."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from blauweknop.protocol import scheme_document
from blauweknop.protocol.jwk import KeySet, generate_jwk, public_jwk
from blauweknop.scheme import publication
from blauweknop.scheme.management.admission import MAX_KEYS
from blauweknop.scheme.models import Organisation, PublishedDocument

pytestmark = pytest.mark.django_db

HOLDER_OIN = "00000009876543210000"
KEY = generate_jwk()


def holder(**changes: Any) -> dict[str, Any]:
    """A good description of a holder, with ``changes`` (a value of ``None`` leaves the field out)."""
    description = {
        "oin": HOLDER_OIN,
        "name": "Waterschap Voorbeeld",
        "slug": "waterschap-voorbeeld",
        "base_url": "https://waterschap.example/",
        "roles": ["holder"],
        "document_types": ["vorderingen"],
        "jwks": {"keys": [public_jwk(KEY)]},
        "description": {"nl": "Int de waterschapsbelasting.", "en": "Collects the water board tax."},
        "contact": {"telefoon": "088 123 4567", "website": "https://waterschap.example/hulp"},
    }
    description.update(changes)
    return {name: value for name, value in description.items() if value is not None}


def admit(tmp_path: Path, content: Any, *args: str) -> str:
    """Run the command on a file with ``content`` (JSON, or the bytes/text as given); its output."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    file = tmp_path / "deelnemer.json"
    if isinstance(content, bytes):
        file.write_bytes(content)
    else:
        file.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    out = (tmp_path / "out.txt").open("w+")
    call_command("admit_participant", str(file), *args, stdout=out)
    out.seek(0)
    return out.read()


def refusal(tmp_path: Path, content: Any, *args: str) -> str:
    """The command's refusal of ``content``: exit code 2, nothing written; its message."""
    before = list(Organisation.objects.values()), PublishedDocument.objects.count()
    with pytest.raises(CommandError) as refused:
        admit(tmp_path, content, *args)
    assert refused.value.returncode == 2
    assert (list(Organisation.objects.values()), PublishedDocument.objects.count()) == before, "half-written"
    return str(refused.value)


@pytest.mark.parametrize(
    "base_url",
    ["http://holder-a:8000", "http://10.0.0.7:8000", "https://[2001:db8::7]", "https://houder.gemeente.example/bk"],
)
def test_it_admits_an_address_on_a_private_network(tmp_path, base_url):
    # Inside a cluster or a Compose network, holders are reached by a bare service name.
    admit(tmp_path, holder(base_url=base_url))
    assert Organisation.objects.get(oin=HOLDER_OIN).base_url == base_url


def test_it_admits_a_holder_and_publishes_it_in_the_scheme_document(tmp_path):
    output = admit(tmp_path, holder(), "--publish")

    organisation = Organisation.objects.get(oin=HOLDER_OIN)
    assert organisation.is_holder and not organisation.is_requester and not organisation.is_app_manager
    assert organisation.certification == Organisation.Certification.CERTIFIED
    assert organisation.certified_since == timezone.localdate()
    assert organisation.base_url == "https://waterschap.example"
    assert organisation.contact == {"telefoon": "088 123 4567", "website": "https://waterschap.example/hulp"}
    assert "Admitted Waterschap Voorbeeld" in output and "version 1" in output

    document = scheme_document.verify(publication.in_force().token, KeySet.from_jwks(publication.operator_jwks()))
    entry = document.certified(HOLDER_OIN, scheme_document.HOLDER)
    assert entry.endpoints["issuer"] == "https://waterschap.example/waterschap-voorbeeld"
    assert entry.document_types == ("vorderingen",)
    assert entry.keys.find(KEY["kid"]).jwk == public_jwk(KEY)
    assert entry.info["soort"] == "overig"  # no kind given: the public figures count it as another organisation


def test_it_publishes_the_kind_of_organisation_for_the_public_figures(tmp_path):
    admit(tmp_path, holder(kind="waterschap"), "--publish")

    document = scheme_document.verify(publication.in_force().token, KeySet.from_jwks(publication.operator_jwks()))
    assert document.certified(HOLDER_OIN, scheme_document.HOLDER).info["soort"] == "waterschap"


def test_it_admits_an_app_manager_without_publishing_until_asked(tmp_path):
    portal = holder(roles=["app_manager"], document_types=None, contact=None, slug="portaal")

    output = admit(tmp_path, portal)

    assert Organisation.objects.get(oin=HOLDER_OIN).is_app_manager
    assert PublishedDocument.objects.count() == 0
    assert "Nothing is published yet" in output


def test_it_updates_an_admitted_participant_and_keeps_its_certification(tmp_path):
    admit(tmp_path, holder())
    Organisation.objects.filter(oin=HOLDER_OIN).update(
        certification=Organisation.Certification.SUSPENDED, certified_since="2026-01-05"
    )
    new_key = generate_jwk()

    output = admit(tmp_path, holder(name="Waterschap Nieuw", jwks={"keys": [public_jwk(new_key)]}))

    organisation = Organisation.objects.get(oin=HOLDER_OIN)
    assert organisation.name == "Waterschap Nieuw"
    # The new key waits for a rotation; the first one still signs.
    assert [(k.kid, k.state) for k in organisation.keys.order_by("added_at")] == [
        (KEY["kid"], "current"),
        (new_key["kid"], "next"),
    ]
    assert organisation.certification == Organisation.Certification.SUSPENDED
    assert str(organisation.certified_since) == "2026-01-05"
    assert "Updated Waterschap Nieuw" in output


PRIVATE = generate_jwk()
OFF_CURVE = {**public_jwk(KEY), "y": public_jwk(PRIVATE)["y"]}
ED_KEY = generate_jwk("EdDSA")
# json.loads takes these; a check that recurses over them does not.
DEEP_LIST = json.dumps(holder(contact=None))[:-1] + ', "contact": ' + "[" * 800 + "]" * 800 + "}"
DEEP_OBJECT = json.dumps(holder(description=None))[:-1] + ', "description": ' + '{"a": ' * 700 + "1" + "}" * 701


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("{not json", "not valid JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"oin": ' + "1" * 5000 + "}", "not valid JSON"),
        (b" " * (1024 * 1024 + 1), "larger than"),
        ([holder()], "one JSON object"),
        (holder(name=None), "'name' is missing"),
        (holder(colour="blue"), "'colour' is unknown"),
        (holder(kind="ministerie"), "kind must be one of"),
        (holder(kind=["gemeente"]), "kind must be one of"),
        (holder(oin="1234"), "20 digits"),
        (holder(oin=int(HOLDER_OIN[:-1] + "1")), "20 digits"),
        (holder(name="  "), "name must be a text"),
        (holder(slug="water schap/"), "slug may only hold"),
        (holder(base_url="ftp://waterschap.example"), "base_url must be a web address"),
        (holder(base_url="https://waterschap.example/?a=b"), "without ? or #"),
        (holder(base_url="https://water schap.example"), "base_url must be a web address"),
        (holder(base_url="https://beheer:geheim@waterschap.example"), "base_url must be a web address"),
        (holder(base_url="https://waterschap.example:99999"), "base_url must be a web address"),
        (holder(base_url="https://-waterschap.example"), "base_url must be a web address"),
        (holder(base_url="https://"), "base_url must be a web address"),
        (holder(roles=[]), "roles must be a list"),
        (holder(roles=["holder", "bank"]), "Unknown roles: bank"),
        (holder(roles=["holder", "app_manager"]), "app_manager cannot have other roles"),
        (holder(jwks=public_jwk(KEY)), "must be a JWK Set"),
        (holder(jwks={"keys": []}), "must be a JWK Set"),
        (holder(jwks={"keys": [PRIVATE]}), "private key"),
        (holder(jwks={"keys": [OFF_CURVE]}), "not usable"),
        (holder(jwks={"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": "r"}]}), "not usable"),
        (holder(jwks={"keys": ["key"]}), "not usable"),
        (holder(jwks={"keys": [{k: v for k, v in public_jwk(KEY).items() if k != "kid"}]}), "no 'kid'"),
        (holder(jwks={"keys": [public_jwk(KEY), public_jwk(KEY)]}), "same 'kid'"),
        (
            holder(jwks={"keys": [public_jwk(generate_jwk()) for _ in range(MAX_KEYS + 1)]}),
            f"more than {MAX_KEYS} keys",
        ),
        (holder(jwks={"keys": [{**public_jwk(KEY), "x5u": "https://elders.example/key"}]}), "not allowed: x5u"),
        (holder(description={"nl": "Alleen Nederlands."}), "Dutch (nl) and in English (en)"),
        (holder(name="Water\x00schap"), "control character"),
        (holder(description={"nl": "Een\nregel", "en": "One line"}), "control character"),
        (holder(jwks={"keys": [{**public_jwk(KEY), "kid": "a\x00"}]}), "control character"),
        (holder(description={"nl": "x" * 501, "en": "y"}), "longer than 500"),
        (holder(contact={"fax": "0201234567"}), "contact may only have telefoon, website, email; leave out: fax"),
        (holder(contact={"email": "geen adres"}), "contact's email must be one e-mail address"),
        (holder(contact="0800 1234"), 'contact must be an object such as {"telefoon"'),
        (holder(base_url="https://waterschap.example/waterschap-voorbeeld/"), "base_url ends in the slug"),
        (holder(contact={"website": "javascript:alert(1)"}), "website must be a web address"),
        (holder(document_types=None), "must name the document_types"),
        (holder(document_types=["vorderingen", "paspoort"]), "Not in the catalogue: paspoort"),
        (holder(document_types="vorderingen"), "must be a list"),
        (holder(roles=["requester"]), "Only a holder issues documents"),
        (holder(name="Gemeente \ud800 X"), "'name' holds a broken character"),
        (holder(description={"nl": "Een \udc00", "en": "One"}), "'description' holds a broken character"),
        (holder(name="Gemeente \u202eX"), "'name' holds a character that turns the direction"),
        (holder(jwks={"keys": [{**public_jwk(KEY), "kid": "a\u2066b"}]}), "'jwks' holds a character that turns"),
        (DEEP_LIST, "'contact' is nested more than"),
        (DEEP_OBJECT, "'description' is nested more than"),
        (holder(jwks={"keys": [{**public_jwk(KEY), "kid": "k" * 500_000}]}), "kid longer than 100 characters"),
        (holder(jwks={"keys": [{**public_jwk(KEY), "use": "x" * 500_000}]}), "'use' must be 'sig'"),
        (holder(jwks={"keys": [{**public_jwk(ED_KEY), "y": "A" * 500_000}]}), "not allowed: y"),
    ],
)
def test_it_refuses_a_bad_file_and_writes_nothing(tmp_path, content, says):
    admit(tmp_path / "first", holder(oin="00000001111111111000", slug="eerste"), "--publish")
    message = refusal(tmp_path, content, "--publish")
    assert says in message, message
    assert "Traceback" not in message


def test_it_names_every_problem_of_a_file_at_once(tmp_path):
    message = refusal(tmp_path, holder(oin="12", slug="a b", roles=["bank"], description=None))
    for says in ("20 digits", "slug may only hold", "Unknown roles", "'description' is missing"):
        assert says in message, message


def test_it_refuses_a_slug_that_another_participant_has(tmp_path):
    admit(tmp_path, holder())
    message = refusal(tmp_path, holder(oin="00000001111111111000"), "--publish")
    assert "belongs to another participant" in message


def test_it_refuses_a_file_that_does_not_exist(tmp_path):
    with pytest.raises(CommandError) as refused:
        call_command("admit_participant", str(tmp_path / "missing.json"))
    assert refused.value.returncode == 2
    assert "cannot be read" in str(refused.value)


def test_a_base_url_that_ends_in_the_slug_is_refused_with_the_address_to_give_instead(tmp_path):
    message = refusal(tmp_path, holder(base_url="https://waterschap.example/blauweknop/waterschap-voorbeeld"))
    assert "waterschap-voorbeeld/waterschap-voorbeeld/api/v1" in message  # what it would have published
    assert "without it: https://waterschap.example/blauweknop." in message
    # The slug as a part of a longer last step, or earlier in the path, is another address: admitted.
    admit(tmp_path / "deeper", holder(base_url="https://waterschap.example/waterschap-voorbeeld/acceptatie"))
    assert (
        Organisation.objects.get().url
        == "https://waterschap.example/waterschap-voorbeeld/acceptatie/waterschap-voorbeeld"
    )
