"""Key rotation of a requester and of the portal (issue 11, item 2, follow-up): real keys, real HTTP.

Holders sign with the key their scheme entry names (tests/scheme/test_keys_rotation.py). So do requesters
(request objects, client assertions) and the portal as app manager (session assertions to holders, client
assertions to requesters, signed PDFs): once the new key is current, what each signs names the new kid, and
the others accept it. A holder binds a lawful copy to the key the requester signs with now.
"""

import pytest
from django.conf import settings

from blauweknop import keystore, pdf
from blauweknop.holder.models import SourceRecord
from blauweknop.portal.models import Consent
from blauweknop.protocol import client_assertion, jws, session_assertion
from blauweknop.protocol.jwk import SigningKey, thumbprint
from blauweknop.requester import fetching, tenants
from blauweknop.requester.models import ShareRequest
from blauweknop.scheme import keys
from blauweknop.scheme.client import scheme_client
from tests.portal.test_share_requester import INCOME, WONING, _ask, _logged_in, _review, _scheme
from tests.requester.world import GEMEENTE
from tests.scheme.test_keys_rotation import BELASTING, _new_key, world  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db(transaction=True)
LAWFUL = {
    "legal_basis": "participatiewet-art-64",
    "purpose": "bijstand-recht-en-hoogte",
    "retention_days": 90,
    "paths": ["belastingjaar", "verzamelinkomenInCenten"],
}


@pytest.fixture
def bsn(world):  # noqa: F811
    """A demo citizen whose income the tax office holds."""
    return SourceRecord.objects.filter(holder_oin=BELASTING, document_type="inkomen").values_list("bsn", flat=True)[0]


def _rotate(tmp_path, owner: str) -> SigningKey:
    """``owner`` announces a new key; the worker makes it current once its notice has passed; everyone refreshes."""
    new = _new_key(tmp_path, owner)
    added = keys.add(owner, new.public_jwk, actor="beheerder")
    assert f"{owner}/{new.kid} current" in keys.rotate_due(added.usable_from)
    scheme_client.forget()
    return new


def _kids(monkeypatch, module) -> list[str]:
    """The kid of every key ``module.sign`` signs with from now on, in order."""
    kids, sign = [], module.sign

    def spy(key, *args, **kwargs):
        kids.append(key.kid)
        return sign(key, *args, **kwargs)

    monkeypatch.setattr(module, "sign", spy)
    return kids


def _share(client, bsn: str, share_request: ShareRequest) -> None:
    """The citizen opens the request at the portal and says yes; the requester has received it."""
    citizen = _logged_in(client, bsn)
    done = citizen.get(citizen.post(_review(citizen, share_request), {"besluit": "ja"})["Location"]).content.decode()
    assert "Uw gegevens zijn gedeeld" in done
    share_request.refresh_from_db()
    assert share_request.status == ShareRequest.State.APPROVED
    assert {r.query_id for r in share_request.received.all()} == {"inkomen"}


def test_after_a_requesters_rotation_its_request_objects_name_the_new_key_and_are_answered(client, bsn, tmp_path):
    old_kid = keys.signing_kid(WONING)
    new = _rotate(tmp_path, WONING)
    share_request = _ask(INCOME)
    assert jws.unverified_parts(share_request.request_object)[0]["kid"] == new.kid != old_kid
    _share(client, bsn, share_request)  # the portal verified the request object against the new key


def test_after_a_requesters_rotation_its_client_assertions_name_the_new_key_and_its_copy_is_taken(
    bsn, tmp_path, monkeypatch
):
    old = keystore.signing_key(GEMEENTE)  # the municipality asks the tax office on a legal basis
    new = _rotate(tmp_path, GEMEENTE)
    signed = _kids(monkeypatch, client_assertion)
    checked = []
    mismatch = fetching._mismatch
    monkeypatch.setattr(
        fetching, "_mismatch", lambda verified, *rest: checked.append(verified) or mismatch(verified, *rest)
    )
    requester = tenants.of_oin(_scheme(), GEMEENTE)
    received = fetching.lawful_fetch(requester, holder_oin=BELASTING, bsn=bsn, type_id="inkomen", **LAWFUL)
    assert signed == [new.kid] != [old.kid]  # and the tax office accepted it
    assert set(received.claims) == {"belastingjaar", "verzamelinkomenInCenten"}
    # The tax office bound the copy to the key the municipality's entry signs with now, not to the first
    # one the scheme lists (the retiring key, on its way out).
    (verified,) = checked
    assert thumbprint(verified.holder_jwk) == thumbprint(new.public_jwk) != thumbprint(old.public_jwk)


def test_after_the_portals_rotation_its_assertions_and_pdfs_name_the_new_key_and_are_accepted(
    client, bsn, tmp_path, monkeypatch
):
    old_kid = keys.signing_kid(settings.PORTAL_OIN)
    share_request = _ask(INCOME)
    new = _rotate(tmp_path, settings.PORTAL_OIN)
    to_holders, to_requesters = _kids(monkeypatch, session_assertion), _kids(monkeypatch, client_assertion)
    _share(client, bsn, share_request)  # the tax office took the session assertion, the requester the answer's
    assert to_holders and set(to_holders) == {new.kid} != {old_kid}
    assert to_requesters == [new.kid, new.kid]  # the request object's signed GET, then the answer
    consent = Consent.objects.get()
    assert share_request.consent == consent.pk  # counted only with a verified assertion of the app manager
    receipt = client.get(f"/toestemmingen/{consent.pk}/bewijs.pdf")
    assert receipt.status_code == 200
    assert pdf.signer_thumbprint(receipt.content) == thumbprint(new.public_jwk)
