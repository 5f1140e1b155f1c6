"""A holder never signs a copy that does not say whom it is about (issue 8, item 3)."""

import pytest

from blauweknop.holder.models import IssuedCredential, SourceRecord
from tests.holder.test_issue_credential import BELASTING, _ask, _assertion

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_refuses_to_sign_a_source_document_that_names_nobody(demo_world, wallet):
    record = SourceRecord.objects.filter(holder_oin=BELASTING, document_type="inkomen").first()
    record.data = {k: v for k, v in record.data.items() if k not in ("burgerservicenummer", "naam", "geboorte")}
    record.save()
    body = {"appbeheerderverklaring": _assertion(record.bsn, wallet), "documentsoort": "inkomen"}
    response = _ask(demo_world, body)
    assert response.status_code == 400 and response.json()["code"] == "bad_claims"
    assert not IssuedCredential.objects.exists()
