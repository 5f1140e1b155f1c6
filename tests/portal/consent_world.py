"""Consents to work with in the consent and fetch API tests: a request as the portal verified it, given or refused."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from django.utils import timezone

from blauweknop.portal import consents
from blauweknop.portal.holders import Citizen
from blauweknop.portal.models import Consent
from blauweknop.protocol import dcql, openid4vp
from blauweknop.protocol.jwk import SigningKey, generate_jwk

WONINGCORPORATIE = "00000003271247970000"  # a requester of the demo
SPAARBANK = "00000003334469140000"  # another
INKOMEN_VCT = "https://stelsel.blauweknop.example/vct/inkomen/2"
ASKED = ("verzamelinkomenInCenten", "belastingjaar")


def citizen(bsn: str) -> Citizen:
    """A citizen as the portal knows them after login, with a session wallet key of their own."""
    return Citizen(bsn, "substantieel", SigningKey(generate_jwk()).public_jwk)


def asked(requester_oin: str = WONINGCORPORATIE, *, access: str = "doorlopend") -> openid4vp.AuthorizationRequest:
    """A verified request (as ``openid4vp.verify_request`` gives it): the income, for a rental contract."""
    claims = (
        dcql.ClaimQuery("jaar", "belastingjaar", True),
        dcql.ClaimQuery("inkomen", "verzamelinkomenInCenten", True),
    )
    query = dcql.Query((dcql.CredentialQuery("inkomen", INKOMEN_VCT, claims, multiple=False, required=True),))
    terms = openid4vp.Terms(
        purpose={"nl": "Toetsen of u de huur kunt betalen.", "en": "Checking that you can pay the rent."},
        legal_basis="toestemming",
        retention_days=30,
        access=access,
        access_until=(timezone.localdate() + timedelta(days=60)).isoformat() if access == openid4vp.STANDING else None,
    )
    now = int(time.time())
    return openid4vp.AuthorizationRequest(
        client_id=requester_oin,
        response_uri=f"https://vrager.example/{requester_oin}/antwoorden",
        nonce="n" * 22,
        state="s" * 22,
        query=query,
        terms=terms,
        issued_at=now,
        expires_at=now + 600,
    )


def given(
    who: Citizen, requester_oin: str = WONINGCORPORATIE, *, access: str = "doorlopend", days: int = 30
) -> tuple[Consent, SigningKey]:
    """A consent ``who`` gave to ``requester_oin``; standing access lasts ``days``."""
    until: datetime | None = timezone.now() + timedelta(days=days) if access == "doorlopend" else None
    return consents.give(
        who,
        asked(requester_oin, access=access),
        requester_name="Woningcorporatie Thuisbasis" if requester_oin == WONINGCORPORATIE else "Spaarbank Voorbeeld",
        request_object="eyJ.request.object",
        approved={"inkomen": list(ASKED)},
        valid_until=until,
    )
