"""POST /stelsel/api/v1/aanmeldingen: an organisation applies with its description signed by one of its own keys."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import Client
from hypothesis import HealthCheck, given, settings

from blauweknop.protocol import application, client_assertion, jws
from blauweknop.protocol.jwk import SigningKey, generate_jwk, public_jwk
from blauweknop.scheme import applications, audit, keys, lifecycle, publication
from blauweknop.scheme.models import Application, AuditEntry, Key, Organisation, PublishedDocument
from tests.concurrency import at_once
from tests.protocol.hostile import mutated, sign_text

URL = "/stelsel/api/v1/aanmeldingen"
WATERSCHAP, WONINGCORPORATIE = "00000009876543210000", "00000009876543211000"
KEYS = {WATERSCHAP: (generate_jwk(),), WONINGCORPORATIE: (generate_jwk("EdDSA"),)}


def described(oin: str = WATERSCHAP, **changes: Any) -> dict[str, Any]:
    """A good description of a holder (the waterschap) or a requester (the woningcorporatie), with ``changes``."""
    holder = oin == WATERSCHAP
    description = {
        "oin": oin,
        "name": "Waterschap Voorbeeld" if holder else "Woningcorporatie Voorbeeld",
        "slug": "waterschap-voorbeeld" if holder else "woningcorporatie-voorbeeld",
        "base_url": "https://waterschap.example" if holder else "https://wonen.example",
        "roles": ["holder"] if holder else ["requester"],
        "document_types": ["vorderingen"] if holder else [],
        "jwks": {"keys": [public_jwk(key) for key in KEYS.get(oin, KEYS[WATERSCHAP])]},
        "description": {"nl": "Een organisatie die meedoet.", "en": "An organisation that takes part."},
        "contact": {"telefoon": "088 123 4567", "website": "https://example.org/hulp"},
    }
    description.update(changes)
    return description


def signed(description: dict[str, Any], key: dict[str, Any] | None = None, **claims: Any) -> str:
    """The application for ``description``, signed with ``key`` (its first own key); ``claims`` replace its claims."""
    signing_key = SigningKey(key or KEYS.get(description.get("oin"), KEYS[WATERSCHAP])[0])
    if not claims:
        return application.sign(description, signing_key, audience=applications.address())
    payload = {**description, "aud": applications.address(), "iat": int(time.time()), "jti": "een-aanmelding", **claims}
    return jws.sign({name: value for name, value in payload.items() if value is not None}, signing_key, application.TYP)


def post(client, token: Any, **extra: Any):
    body = token if isinstance(token, bytes) else json.dumps({"aanmelding": token})
    return client.post(URL, data=body, content_type="application/json", **extra)


def assertion(oin: str, key: dict[str, Any] | None = None, *, about: str | None = None, **claims: Any) -> str:
    """A client assertion of ``oin`` (signed with ``key``, its first own key) about the status of ``about`` (itself)."""
    audience = f"{django_settings.SCHEME_URL}/api/v1/aanmeldingen/{about or oin}"
    signing_key = SigningKey(key or KEYS[oin][0])
    if not claims:
        return client_assertion.sign(signing_key, client_id=oin, audience=audience)
    now = int(time.time())
    payload = {"iss": oin, "sub": oin, "aud": audience, "jti": "een-vraag", "iat": now, "exp": now + 60, **claims}
    return jws.sign(payload, signing_key, client_assertion.TYP)


def ask(client, oin: str, token: str | None = None):
    """``GET`` the status of ``oin``, with ``token`` (by default the applicant's own fresh assertion) as Bearer."""
    token = assertion(oin) if token is None else token
    return client.get(f"{URL}/{oin}", HTTP_AUTHORIZATION=f"Bearer {token}")


def waiting(oin: str) -> int:
    """The number of ``oin``'s application that waits for the operator."""
    return Application.objects.get(oin=oin, state=Application.State.WAITING).pk


def refused(response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == code
    return response.json()


def stored() -> tuple[list, list, list]:
    """What the scheme holds about participants: nothing else may change when an application is refused."""
    return (
        list(Organisation.objects.values()),
        list(Application.objects.values()),
        list(Key.objects.values()),
        list(AuditEntry.objects.values("action", "subject")),
    )


@pytest.mark.django_db
def test_two_organisations_apply_and_wait_for_the_operator_with_their_keys_unpublished(client):
    publication.publish()
    published = PublishedDocument.objects.count()

    for oin in (WATERSCHAP, WONINGCORPORATIE):
        response = post(client, signed(described(oin)))
        assert response.status_code == 201, response.content
        assert response.json() == {"aanmelding": oin, "status": "aangemeld"}
        assert response["Location"] == f"{URL}/{oin}"
        assert response["API-Version"] == "1.0.0"
    assert PublishedDocument.objects.count() == published, "an application publishes nothing"

    # Kept apart from the participants: no participant, no key in the register until the operator certifies.
    assert not Organisation.objects.exists() and not Key.objects.filter(owner__in=KEYS).exists()
    waterschap = Application.objects.get(oin=WATERSCHAP).as_participant()
    assert (waterschap.name, waterschap.slug, waterschap.is_holder, waterschap.document_types) == (
        "Waterschap Voorbeeld",
        "waterschap-voorbeeld",
        True,
        ["vorderingen"],
    )
    assert Application.objects.get(oin=WONINGCORPORATIE).as_participant().is_requester
    assert Application.objects.get(oin=WATERSCHAP).kid == KEYS[WATERSCHAP][0]["kid"]
    entries = AuditEntry.objects.filter(subject__in=KEYS).order_by("pk")
    assert [(e.actor, e.action, e.subject) for e in entries] == [
        ("aanvrager", "applied", WATERSCHAP),
        ("aanvrager", "applied", WONINGCORPORATIE),
    ]
    # Certified: the participant is made with its key, current at once.
    organisation = lifecycle.certify(waiting(WATERSCHAP), actor="beheerder", reason="Conformiteitstest geslaagd.")
    assert organisation.certification == Organisation.Certification.CERTIFIED and organisation.certified_since
    assert [(k.kid, k.state) for k in organisation.keys] == [(KEYS[WATERSCHAP][0]["kid"], Key.State.CURRENT)]
    assert audit.verify_chain() is None
    assert WONINGCORPORATIE not in publication.publish().token  # an applicant stays out of the next document


@pytest.mark.django_db
def test_the_status_shows_only_the_status_and_its_dates_through_certification_and_refusal(client):
    publication.publish()
    for oin in (WATERSCHAP, WONINGCORPORATIE):
        post(client, signed(described(oin)))

    asked = ask(client, WATERSCHAP).json()
    assert set(asked) == {"oin", "status", "aangemeldOp", "gewijzigdOp", "gecertificeerdSinds"}
    assert (asked["status"], asked["gecertificeerdSinds"]) == ("aangemeld", None)
    assert asked["aangemeldOp"] == asked["gewijzigdOp"]

    lifecycle.certify(waiting(WATERSCHAP), actor="beheerder", reason="Conformiteitstest geslaagd.")
    lifecycle.refuse(waiting(WONINGCORPORATIE), actor="beheerder", reason="Geen geldig doel.")

    certified = ask(client, WATERSCHAP).json()
    assert certified["status"] == "gecertificeerd" and certified["gecertificeerdSinds"]
    assert certified["aangemeldOp"] == asked["aangemeldOp"] and certified["gewijzigdOp"] > asked["gewijzigdOp"]
    refusal = ask(client, WONINGCORPORATIE).json()
    assert refusal["status"] == "geweigerd"
    assert "Geen geldig doel" not in json.dumps(refusal) and "Woningcorporatie" not in json.dumps(refusal)


@pytest.mark.django_db
def test_nobody_but_the_applicant_learns_that_it_applied_or_was_refused(client):
    """Review F11: anyone could read that an OIN applied and was refused, with dates."""
    publication.publish()
    for oin in (WATERSCHAP, WONINGCORPORATIE):
        post(client, signed(described(oin)))
    lifecycle.refuse(waiting(WONINGCORPORATIE), actor="beheerder", reason="Geen geldig doel.")
    nobody = "00000009999999999000"  # never applied

    for anonymous in (
        client.get(f"{URL}/{WONINGCORPORATIE}"),
        client.get(f"{URL}/{WONINGCORPORATIE}", HTTP_AUTHORIZATION="Basic d29uZW46Z2VoZWlt"),
        client.get(f"{URL}/{WONINGCORPORATIE}", HTTP_AUTHORIZATION="Bearer " + "a" * 9000),
        ask(client, WONINGCORPORATIE, "geen.client.assertion"),
    ):
        problem = refused(anonymous, 401, "invalid_client")
        assert "geweigerd" not in json.dumps(problem) and "Authorization: Bearer" in problem["detail"]

    # A stranger's own key, under the refused applicant's OIN or under one nobody applied with: one answer.
    stranger = generate_jwk()
    claimed = refused(ask(client, WONINGCORPORATIE, assertion(WONINGCORPORATIE, stranger)), 401, "invalid_client")
    assert refused(ask(client, nobody, assertion(nobody, stranger)), 401, "invalid_client") == claimed
    # The applicant's kid with another private key (a bad signature) answers the same too.
    impostor = {**generate_jwk(), "kid": KEYS[WONINGCORPORATIE][0]["kid"]}
    assert refused(ask(client, WONINGCORPORATIE, assertion(WONINGCORPORATIE, impostor)), 401, "invalid_client") == (
        claimed
    )

    # Another applicant proves who it is, and is told no more for an OIN that applied than for one that did not.
    other = refused(ask(client, WONINGCORPORATIE, assertion(WATERSCHAP, about=WONINGCORPORATIE)), 403, "forbidden")
    assert refused(ask(client, nobody, assertion(WATERSCHAP, about=nobody)), 403, "forbidden") == other
    assert "geweigerd" not in json.dumps(other)

    assert ask(client, WONINGCORPORATIE).json()["status"] == "geweigerd"  # the applicant itself


@pytest.mark.django_db
def test_a_status_assertion_is_for_this_address_used_once_and_never_with_a_revoked_key(client):
    publication.publish()
    post(client, signed(described()))
    token = assertion(WATERSCHAP)
    assert ask(client, WATERSCHAP, token).status_code == 200
    assert "used before" in refused(ask(client, WATERSCHAP, token), 401, "assertion_replayed")["detail"]

    keys_address = f"{django_settings.SCHEME_URL}/api/v1/deelnemers/{WATERSCHAP}/sleutels"
    refused(ask(client, WATERSCHAP, assertion(WATERSCHAP, aud=keys_address)), 401, "aud_mismatch")
    refused(ask(client, WATERSCHAP, assertion(WATERSCHAP, exp=int(time.time()) + 3600)), 401, "expired")
    refused(ask(client, WATERSCHAP, assertion(WATERSCHAP, sub=WONINGCORPORATIE)), 401, "invalid_client")

    # Once certified, its key is the participant's: it proves it until the operator revokes the key.
    lifecycle.certify(waiting(WATERSCHAP), actor="beheerder", reason="Conformiteitstest geslaagd.")
    assert ask(client, WATERSCHAP).json()["status"] == "gecertificeerd"
    keys.revoke(WATERSCHAP, KEYS[WATERSCHAP][0]["kid"], actor="beheerder", reason="Kwijtgeraakt.")
    refused(ask(client, WATERSCHAP), 401, "invalid_client")


@pytest.mark.django_db
def test_a_participants_oin_or_slug_and_an_application_sent_twice_conflict_and_change_nothing(client, tmp_path):
    token = signed(described())
    post(client, token)
    before = stored()

    assert "received before" in refused(post(client, token), 409, "replayed")["detail"]
    assert "waiting" in refused(post(client, signed(described())), 409, "already_applied")["detail"]
    assert stored() == before

    lifecycle.certify(waiting(WATERSCHAP), actor="beheerder", reason="Conformiteitstest geslaagd.")
    before = stored()
    other = generate_jwk()
    again = signed(described(jwks={"keys": [public_jwk(other)]}), other)
    assert "status" in refused(post(client, again), 409, "oin_taken")["detail"]
    slug = refused(post(client, signed(described(WONINGCORPORATIE, slug="waterschap-voorbeeld"))), 409, "slug_taken")
    assert "waterschap-voorbeeld" in slug["detail"]
    assert stored() == before

    # An OIN the operator admitted itself is taken too.
    file = tmp_path / "deelnemer.json"
    file.write_text(json.dumps(described(WONINGCORPORATIE)))
    call_command("admit_participant", str(file), stdout=open("/dev/null", "w"))  # noqa: SIM115
    refused(post(client, signed(described(WONINGCORPORATIE))), 409, "oin_taken")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{", "invalid_json"),
        (b"\xff\xfe", "invalid_json"),
        (b"[]", "invalid_json"),
        (b'{"aanmelding": "a", "aanmelding": "b"}', "invalid_json"),
        (b"[" * 50_000, "invalid_json"),
        (b"{}", "invalid_input"),
        (b'{"aanmelding": 7}', "invalid_input"),
        (b'{"aanmelding": "x.y.z", "ook": 1}', "invalid_input"),
        (b'{"aanmelding": "geen jws"}', "malformed"),
        (b'{"aanmelding": "e30.e30.e30"}', "wrong_typ"),
        (b'{"aanmelding": "eyJ0eXAiOiJhYW5tZWxkaW5nK2p3dCIsImFsZyI6Im5vbmUifQ.e30."}', "alg_not_allowed"),
    ],
)
def test_a_body_that_is_not_a_signed_application_is_refused_with_its_own_code(client, body, code):
    before = stored()
    refused(post(client, body), 400, code)
    assert stored() == before


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    payload=mutated({**described(), "aud": applications.address(), "iat": int(time.time()), "jti": "een-aanmelding"})
)
def test_any_signed_description_is_accepted_or_refused_with_a_status_and_code(payload):
    token = sign_text(payload, SigningKey(KEYS[WATERSCHAP][0]), application.TYP)
    outcome = _checked(token)
    if isinstance(outcome, applications.NotAccepted):
        assert outcome.status in (400, 422) and outcome.code and outcome.detail
    else:
        admitted, verified = outcome
        assert admitted.oin == verified.description["oin"]


def _checked(token: str) -> Any:
    """What the checks make of ``token``: the admission and application, or the refusal; nothing else."""
    try:
        return applications.checked(token)
    except applications.NotAccepted as refused:
        return refused


@pytest.mark.django_db
def test_a_token_of_another_type_or_without_a_signature_is_refused(client):
    description = described()
    other_type = jws.sign({**description, "iat": int(time.time()), "jti": "x"}, SigningKey(KEYS[WATERSCHAP][0]), "jwt")
    refused(post(client, other_type), 400, "wrong_typ")
    header, payload, _ = signed(description).split(".")
    refused(post(client, f"{header}.{payload}."), 422, "bad_signature")


@pytest.mark.django_db
def test_a_description_the_operator_would_not_admit_is_refused_with_every_problem(client):
    bad = described(slug="geen slug", roles=["holder", "bank"], jwks={"keys": [KEYS[WATERSCHAP][0]]}, extra=1)
    problem = refused(post(client, signed(bad)), 422, "invalid_application")
    reasons = [param["reason"] for param in problem["invalidParams"]]
    assert any("slug" in reason for reason in reasons)
    assert any("bank" in reason for reason in reasons)
    assert any("private key" in reason for reason in reasons)
    assert any("'extra' is unknown" in reason for reason in reasons)
    assert {param["name"] for param in problem["invalidParams"]} == {"aanmelding"}
    assert not Organisation.objects.exists() and not Application.objects.exists()


@pytest.mark.django_db
def test_an_application_must_prove_it_holds_one_of_its_own_keys(client):
    stranger = generate_jwk()
    assert "own jwks" in refused(post(client, signed(described(), stranger)), 422, "unknown_key")["detail"]
    # The kid of one of its keys, but the private key of another.
    impostor = {**generate_jwk(), "kid": KEYS[WATERSCHAP][0]["kid"]}
    refused(post(client, signed(described(), impostor)), 422, "bad_signature")
    assert post(client, signed(described())).status_code == 201


@pytest.mark.django_db
def test_an_application_holds_only_the_key_it_is_signed_with(client):
    """Attack review A6: a second key needed no proof, so anyone could list another's public key and squat it."""
    victim = public_jwk(KEYS[WONINGCORPORATIE][0])
    squat = described(jwks={"keys": [public_jwk(KEYS[WATERSCHAP][0]), victim]})
    problem = refused(post(client, signed(squat)), 422, "one_key")
    assert "sleutelbewijs" in problem["detail"] and "/sleutels" in problem["detail"]
    assert not Application.objects.exists() and not AuditEntry.objects.filter(action="applied").exists()
    # The real owner applies with it, and its key is registered on certification.
    assert post(client, signed(described(WONINGCORPORATIE))).status_code == 201
    lifecycle.certify(waiting(WONINGCORPORATIE), actor="beheerder", reason="Conformiteitstest geslaagd.")
    assert Key.objects.get(owner=WONINGCORPORATIE).kid == victim["kid"]
    # Registered now: nobody applies with it again, under any OIN.
    again = described(WATERSCHAP, jwks={"keys": [victim]})
    assert (
        "known in the scheme"
        in refused(post(client, signed(again, KEYS[WONINGCORPORATIE][0])), 409, "key_exists")["detail"]
    )


@pytest.mark.django_db
def test_an_impostor_under_a_real_oin_takes_nothing_from_the_real_organisation(client):
    """Attack review A11: an application under another organisation's (public) OIN and slug blocked it, and once
    refused blocked it for good. Now both wait side by side; the refusal frees nothing because nothing was taken."""
    publication.publish()
    attacker = generate_jwk()
    impostor = described(base_url="https://evil.example", jwks={"keys": [public_jwk(attacker)]})
    assert post(client, signed(impostor, attacker)).status_code == 201
    # While the impostor waits, the real organisation applies with the same OIN and slug.
    assert post(client, signed(described())).status_code == 201
    first, second = Application.objects.filter(oin=WATERSCHAP).order_by("pk")
    assert (first.state, second.state) == (Application.State.WAITING, Application.State.WAITING)
    # Each sees only its own application.
    assert ask(client, WATERSCHAP, assertion(WATERSCHAP, attacker)).json()["status"] == "aangemeld"
    lifecycle.refuse(first.pk, actor="beheerder", reason="Niet de echte organisatie: het OIN-register zegt anders.")
    assert ask(client, WATERSCHAP, assertion(WATERSCHAP, attacker)).json()["status"] == "geweigerd"
    assert ask(client, WATERSCHAP).json()["status"] == "aangemeld"
    assert not Organisation.objects.exists() and not Key.objects.filter(owner=WATERSCHAP).exists()

    organisation = lifecycle.certify(second.pk, actor="beheerder", reason="Gebeld via het OIN-register: klopt.")
    assert (organisation.slug, organisation.base_url) == ("waterschap-voorbeeld", "https://waterschap.example")
    assert ask(client, WATERSCHAP).json()["status"] == "gecertificeerd"
    assert ask(client, WATERSCHAP, assertion(WATERSCHAP, attacker)).json()["status"] == "geweigerd"
    # Only now the OIN and slug are taken; the impostor's refused key may be used by its holder elsewhere.
    refused(post(client, signed(impostor, attacker)), 409, "oin_taken")
    other = described(WONINGCORPORATIE, jwks={"keys": [public_jwk(attacker)]})
    assert post(client, signed(other, attacker)).status_code == 201
    assert audit.verify_chain() is None
    trail = [(e.action, e.details.get("aanmelding")) for e in AuditEntry.objects.filter(subject=WATERSCHAP)]
    assert sorted(trail, key=str) == sorted(
        [("applied", first.pk), ("applied", second.pk), ("refused", first.pk), ("certified", second.pk)], key=str
    )


@pytest.mark.django_db
def test_a_certified_application_cannot_be_certified_twice_nor_a_second_one_for_its_oin(client):
    attacker = generate_jwk()
    post(client, signed(described()))
    post(client, signed(described(jwks={"keys": [public_jwk(attacker)]}), attacker))
    first, second = Application.objects.filter(oin=WATERSCHAP).order_by("pk")
    lifecycle.certify(first.pk, actor="beheerder", reason="Gebeld via het OIN-register: klopt.")
    with pytest.raises(lifecycle.TransitionRefused) as again:
        lifecycle.certify(first.pk, actor="beheerder", reason="Nog eens.")
    assert again.value.code == "not_allowed"
    before = stored()
    with pytest.raises(lifecycle.TransitionRefused, match="al een deelnemer met dit OIN"):
        lifecycle.certify(second.pk, actor="beheerder", reason="Per ongeluk.")
    assert stored() == before
    lifecycle.refuse(second.pk, actor="beheerder", reason="Concurreert met de echte organisatie.")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("claims", "code"),
    [
        ({"iat": int(time.time()) - 60 * 60}, "expired"),
        ({"iat": int(time.time()) + 60 * 60}, "issued_in_future"),
        ({"iat": None}, "missing_claim"),
        ({"jti": None}, "missing_claim"),
    ],
)
def test_an_application_is_fresh_and_names_itself(client, claims, code):
    refused(post(client, signed(described(), **claims)), 422, code)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "aud",
    [
        None,
        "https://acceptatie.stelsel.example/stelsel/api/v1/aanmeldingen",
        [applications.address()],
        applications.address() + "/",
    ],
)
def test_an_application_for_another_operator_or_for_none_is_refused_and_stores_nothing(client, aud):
    before = stored()
    detail = refused(post(client, signed(described(), aud=aud)), 422, "aud_mismatch")["detail"]
    assert applications.address() in detail and "Sign it again" in detail
    assert stored() == before


@pytest.mark.django_db
def test_an_application_accepted_by_one_operator_is_refused_when_replayed_to_another(client, settings):
    settings.SCHEME_URL = "https://acceptatie.stelsel.example/stelsel"
    token = signed(described())
    assert post(client, token).status_code == 201
    settings.SCHEME_URL = "https://stelsel.example/stelsel"  # production: its own address, its own aud
    refused(post(client, token), 422, "aud_mismatch")
    refused(post(client, signed(described(WONINGCORPORATIE), aud=None)), 422, "aud_mismatch")


@pytest.mark.django_db
@pytest.mark.parametrize(("claims", "code"), [({"iat": "nu"}, "malformed"), ({"jti": ""}, "malformed")])
def test_claims_of_the_wrong_kind_are_malformed(client, claims, code):
    refused(post(client, signed(described(), **claims)), 400, code)


@pytest.mark.django_db
def test_an_application_larger_than_the_limit_is_refused_unread(client):
    huge = json.dumps({"aanmelding": "a" * applications.MAX_BODY}).encode()
    refused(post(client, huge), 413, "too_large")
    assert not Organisation.objects.exists() and not Application.objects.exists()


@pytest.mark.django_db
def test_applications_are_limited_per_client_address(client, monkeypatch):
    monkeypatch.setattr(applications, "PER_ADDRESS", 3)
    for _ in range(3):
        refused(post(client, b"{}"), 400, "invalid_input")
    refused(post(client, signed(described())), 429, "too_many_requests")
    # Another address is counted apart.
    assert post(client, signed(described()), REMOTE_ADDR="192.0.2.7").status_code == 201


@pytest.mark.django_db
def test_the_openapi_description_documents_applying_and_its_problems(client):
    schema = client.get("/stelsel/api/v1/openapi.json").json()
    apply = schema["paths"]["/stelsel/api/v1/aanmeldingen"]["post"]
    assert {"201", "400", "409", "413", "422", "429"} <= set(apply["responses"])
    assert "aanmelding+jwt" in json.dumps(apply["requestBody"])
    body = apply["requestBody"]["content"]["application/json"]["schema"]["properties"]["aanmelding"]["description"]
    assert "kind (optional" in body and "waterschap" in body
    assert "base_url is the root of the deployment WITHOUT the slug" in body
    assert "(docs/scheme-operator.md#joining)" in body
    status = schema["paths"]["/stelsel/api/v1/aanmeldingen/{oin}"]["get"]
    assert {"200", "401", "403", "404"} <= set(status["responses"])
    assert "Authorization: Bearer <client assertion>" in status["description"]


@pytest.mark.django_db(transaction=True)
def test_fifty_identical_applications_at_once_make_one_applicant(monkeypatch):
    monkeypatch.setattr(applications, "PER_ADDRESS", 1000)
    token = signed(described())

    def apply() -> Any:
        return post(Client(), token)  # a client per thread: each its own database connection

    results, failures = at_once(apply, workers=50)
    assert failures == []
    assert sorted(response.status_code for response in results) == [201] + [409] * 49
    assert {response.json()["code"] for response in results if response.status_code == 409} == {"replayed"}
    assert Application.objects.count() == 1 and not Organisation.objects.exists()
    assert AuditEntry.objects.filter(action="applied").count() == 1 and audit.verify_chain() is None


@pytest.mark.django_db
def test_a_base_url_that_ends_in_the_slug_is_refused_before_anything_is_stored(client):
    doubled = described(base_url="https://waterschap.example/waterschap-voorbeeld")
    problem = refused(post(client, signed(doubled)), 422, "invalid_application")
    (reason,) = [param["reason"] for param in problem["invalidParams"]]
    assert "ends in the slug 'waterschap-voorbeeld'" in reason
    assert "Give the address of the deployment without it: https://waterschap.example." in reason
    assert not Organisation.objects.exists() and not Application.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("roles", [["holder"], ["requester"], ["holder", "requester"], ["app_manager"]])
def test_the_addresses_an_applicant_is_told_are_the_ones_the_scheme_document_publishes(client, roles):
    base_url = "https://waterschap.example/blauweknop/"
    description = described(roles=roles, base_url=base_url, document_types=["vorderingen"] if "holder" in roles else [])
    publication.publish()
    assert post(client, signed(description)).status_code == 201
    organisation = lifecycle.certify(waiting(WATERSCHAP), actor="beheerder", reason="Conformiteitstest geslaagd.")
    entry = organisation.scheme_entry(as_app_manager=roles == ["app_manager"])
    assert application.endpoints(base_url, "waterschap-voorbeeld", roles) == entry["endpoints"]
