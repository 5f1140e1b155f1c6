"""Only the holder whose data changed supersedes its own earlier copies (issue 6, item 1)."""

import httpx
import pytest

from blauweknop.holder.models import IssuedCredential, SourceRecord
from blauweknop.protocol.errors import VerificationError
from tests.holder.test_issue_credential import BELASTING, _assertion, _verify

pytestmark = pytest.mark.django_db(transaction=True)
GEMEENTE = "00000001823288444000"
SLUGS = {BELASTING: "belastingkantoor", GEMEENTE: "gemeente-voorbeeldstad"}


@pytest.fixture
def debtor(demo_world):
    """A citizen with debts at both the tax office and the municipality."""
    at = lambda oin: set(  # noqa: E731
        SourceRecord.objects.filter(holder_oin=oin, document_type="vorderingen").values_list("bsn", flat=True)
    )
    both = sorted(at(BELASTING) & at(GEMEENTE))
    if not both:  # the seeded world is random; make one such citizen when it has none
        bsn = sorted(at(BELASTING))[0]
        data = SourceRecord.objects.get(holder_oin=BELASTING, document_type="vorderingen", bsn=bsn).data
        SourceRecord.objects.create(holder_oin=GEMEENTE, document_type="vorderingen", bsn=bsn, data=data)
        return bsn
    return both[0]


def _press(server, oin, bsn, wallet):
    body = {"appbeheerderverklaring": _assertion(bsn, wallet, holder_oin=oin), "documentsoort": "vorderingen"}
    response = httpx.post(f"{server.url}/{SLUGS[oin]}/api/v1/verklaringen", json=body, timeout=30)
    assert response.status_code == 201, response.text
    return response.json()["verklaring"]


def test_a_download_at_one_holder_leaves_another_holders_copies_valid(demo_world, debtor, wallet):
    at_gemeente = _press(demo_world, GEMEENTE, debtor, wallet)
    at_belasting = _press(demo_world, BELASTING, debtor, wallet)
    _press(demo_world, BELASTING, debtor, wallet)  # the same holder again, with the same data
    assert _verify(demo_world, at_gemeente).claims["vorderingen"]
    assert _verify(demo_world, at_belasting).claims["vorderingen"]
    assert IssuedCredential.objects.filter(status=1).count() == 0


def test_changed_data_at_one_holder_supersedes_only_that_holders_copies(demo_world, debtor, wallet):
    at_gemeente = _press(demo_world, GEMEENTE, debtor, wallet)
    at_belasting = _press(demo_world, BELASTING, debtor, wallet)
    record = SourceRecord.objects.get(holder_oin=BELASTING, document_type="vorderingen", bsn=debtor)
    record.data = {**record.data, "vorderingen": [{**record.data["vorderingen"][0], "openstaandBedragInCenten": 1}]}
    record.save()
    _press(demo_world, BELASTING, debtor, wallet)
    assert _verify(demo_world, at_gemeente).claims["vorderingen"]
    with pytest.raises(VerificationError) as caught:
        _verify(demo_world, at_belasting)
    assert caught.value.code == "revoked"
