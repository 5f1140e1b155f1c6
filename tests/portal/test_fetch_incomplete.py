"""A standing fetch with a holder down says which holders were not reached (attacker review A8).

The debt counsellor fetches every debt of a citizen with debts at several holders. One holder does not answer:
the answer still carries the others' debts, and names the silent holder in ``nietBereikt``, so the requester
does not take a part for the whole. When every holder answers, the list is empty.
"""

import pytest

from blauweknop.holder.models import SourceRecord
from tests.portal.test_holder_failures import _move
from tests.portal.test_refused_fetch_records import counsellor_fetches, debtors, standing_for_debts

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_holder_that_does_not_answer_is_named_and_the_others_debts_arrive(demo_world):
    first, second = debtors(2)
    whole = counsellor_fetches(standing_for_debts(first))
    assert whole.status_code == 200, whole.text
    assert whole.json()["nietBereikt"] == []
    every = len(whole.json()["vp_token"]["schulden"])
    silent = SourceRecord.objects.filter(bsn=first, document_type="vorderingen").values_list("holder_oin", flat=True)[0]
    _move(silent, "http://127.0.0.1:9")
    part = counsellor_fetches(standing_for_debts(first))
    assert part.status_code == 200, part.text
    assert part.json()["nietBereikt"] == [silent]
    assert 0 < len(part.json()["vp_token"]["schulden"]) < every
    # The silent holder issues debts, so it is asked, and named, for every citizen.
    other = counsellor_fetches(standing_for_debts(second)).json()
    assert other["nietBereikt"] == [silent]
