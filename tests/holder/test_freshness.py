"""A change in the source, made anywhere, supersedes every earlier copy of that data within one worker run (issue 12).

The source table is changed with plain SQL, as a clerk's application or a batch job would, outside
the Blauwe Knop; the status lists are read as verifiers read them, from the published token.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from blauweknop.holder import freshness
from blauweknop.holder.freshness import SETTLE, follow_source_changes
from blauweknop.holder.models import IssuedCredential, SourceChange, SourceRecord
from blauweknop.holder.tasks import publish_status_lists
from blauweknop.protocol.errors import VerificationError
from blauweknop.protocol.status_list import VALID
from blauweknop.pseudonyms import pseudonym
from tests.concurrency import at_once
from tests.holder.test_issue_credential import BELASTING, _verify
from tests.holder.test_supersession import GEMEENTE, _press, debtor  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db(transaction=True)
TYPE = "vorderingen"
NO_TENANT = "00000009999999999000"


@pytest.fixture
def neighbour(demo_world, debtor):  # noqa: F811 (the fixture above)
    """Another citizen with debts at the tax office."""
    others = SourceRecord.objects.filter(holder_oin=BELASTING, document_type=TYPE).exclude(bsn=debtor)
    return others.values_list("bsn", flat=True).first() or pytest.skip("the seeded world has one debtor only")


def _data(oin, bsn):
    return SourceRecord.objects.get(holder_oin=oin, document_type=TYPE, bsn=bsn).data


def _changed(data):
    first = data["vorderingen"][0]
    return {**data, "vorderingen": [{**first, "openstaandBedragInCenten": first["openstaandBedragInCenten"] + 1}]}


def _sql(statement, params):
    """Plain SQL on the source table, as the organisation's own applications change it."""
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _update_directly(oin, bsn, data):
    _sql(
        "UPDATE holder_bronregistratie SET data = %s WHERE holder_oin = %s AND document_type = %s AND bsn = %s",
        [connection.ops.adapt_json_value(data, None), oin, TYPE, bsn],
    )


def _state(server, credential):
    """What a verifier says of the copy, reading the status list the holder published."""
    try:
        _verify(server, credential)
    except VerificationError as exc:
        return exc.code
    return "valid"


def test_a_direct_update_supersedes_the_earlier_copies_within_one_run(demo_world, debtor, neighbour, wallet):  # noqa: F811
    first, second = _press(demo_world, BELASTING, debtor, wallet), _press(demo_world, BELASTING, debtor, wallet)
    at_gemeente = _press(demo_world, GEMEENTE, debtor, wallet)
    neighbours = _press(demo_world, BELASTING, neighbour, wallet)
    publish_status_lists.call()
    _update_directly(BELASTING, debtor, _changed(_data(BELASTING, debtor)))
    assert _state(demo_world, first) == "valid"  # the list published before the change
    publish_status_lists.call()  # the citizen never fetches again: the worker's run alone does it
    assert _state(demo_world, first) == _state(demo_world, second) == "revoked"
    assert _state(demo_world, at_gemeente) == "valid"  # another holder's copy of the same type
    assert _state(demo_world, neighbours) == "valid"  # another citizen's copy at the same holder
    fresh = _press(demo_world, BELASTING, debtor, wallet)
    publish_status_lists.call()  # the change is looked at again until it settles: the new copy stays valid
    assert _state(demo_world, fresh) == "valid"
    assert _verify(demo_world, fresh).claims == _data(BELASTING, debtor)  # the changed data
    assert _state(demo_world, first) == "revoked"


def test_a_deleted_row_supersedes_the_copies(demo_world, debtor, wallet):  # noqa: F811
    at_belasting = _press(demo_world, BELASTING, debtor, wallet)
    at_gemeente = _press(demo_world, GEMEENTE, debtor, wallet)
    _sql(
        "DELETE FROM holder_bronregistratie WHERE holder_oin = %s AND document_type = %s AND bsn = %s",
        [BELASTING, TYPE, debtor],
    )
    publish_status_lists.call()
    assert _state(demo_world, at_belasting) == "revoked"
    assert _state(demo_world, at_gemeente) == "valid"


def test_an_unchanged_resave_supersedes_nothing(demo_world, debtor, wallet):  # noqa: F811
    copy = _press(demo_world, BELASTING, debtor, wallet)
    data = _data(BELASTING, debtor)
    _update_directly(BELASTING, debtor, dict(reversed(data.items())))  # the same data, its keys in another order
    SourceRecord.objects.get(holder_oin=BELASTING, document_type=TYPE, bsn=debtor).save()
    assert follow_source_changes(timezone.now()) == 0
    publish_status_lists.call()
    assert _state(demo_world, copy) == "valid"
    assert not IssuedCredential.objects.filter(status=1).exists()


def test_supersede_after_a_correction_compares_with_the_source_now(demo_world, debtor, wallet):  # noqa: F811
    copy = _press(demo_world, BELASTING, debtor, wallet)
    tenant = IssuedCredential.objects.get().status_list.holder
    assert freshness.supersede(tenant, debtor, TYPE) == 0  # nothing changed yet
    _update_directly(BELASTING, debtor, _changed(_data(BELASTING, debtor)))
    assert freshness.supersede(tenant, debtor, TYPE) == 1
    assert freshness.supersede(tenant, debtor, TYPE) == 0  # twice is harmless
    publish_status_lists.call()
    assert _state(demo_world, copy) == "revoked"


def test_two_runs_at_once_supersede_each_copy_once_and_lose_no_change(demo_world, debtor, neighbour, wallet):  # noqa: F811
    copies = [_press(demo_world, BELASTING, bsn, wallet) for bsn in (debtor, neighbour, debtor)]
    at_gemeente = _press(demo_world, GEMEENTE, debtor, wallet)
    for bsn in (debtor, neighbour):
        _update_directly(BELASTING, bsn, _changed(_data(BELASTING, bsn)))
    # More changes than one batch, most of them elsewhere, so the two runs read across each other.
    for n in range(2 * freshness.BATCH):
        SourceChange.objects.create(holder_oin=NO_TENANT, document_type=TYPE, bsn=f"{n:09d}")
    now = timezone.now()
    results, failures = at_once(lambda: follow_source_changes(now))
    assert failures == []
    assert sum(results) == 3  # each outdated copy counted by one run only
    assert not SourceChange.objects.filter(holder_oin=NO_TENANT).exists()  # dropped at once
    assert not SourceChange.objects.filter(seen_at=None).exists()  # the rest seen, to settle from now on
    results, failures = at_once(lambda: follow_source_changes(now + SETTLE + timedelta(seconds=1)))
    assert failures == [] and results == [0, 0]
    assert not SourceChange.objects.exists()  # every change handled and forgotten
    publish_status_lists.call()
    assert [_state(demo_world, copy) for copy in copies] == ["revoked"] * 3
    assert _state(demo_world, at_gemeente) == "valid"


def test_a_change_is_forgotten_only_once_it_settled(demo_world, debtor, wallet):  # noqa: F811
    _press(demo_world, BELASTING, debtor, wallet)
    SourceChange.objects.all().delete()  # the seeded world's own changes
    _update_directly(BELASTING, debtor, _changed(_data(BELASTING, debtor)))
    now = timezone.now()
    assert follow_source_changes(now) == 1
    assert SourceChange.objects.count() == 1  # an issuance that read the old data may still commit
    assert follow_source_changes(now + SETTLE + timedelta(seconds=1)) == 0
    assert not SourceChange.objects.exists()


def test_a_change_at_an_organisation_that_is_no_tenant_here_is_dropped(demo_world, debtor, wallet):  # noqa: F811
    copy = _press(demo_world, BELASTING, debtor, wallet)
    SourceChange.objects.all().delete()
    SourceRecord.objects.create(holder_oin=NO_TENANT, document_type=TYPE, bsn=debtor, data=_data(BELASTING, debtor))
    assert follow_source_changes(timezone.now()) == 0
    assert not SourceChange.objects.exists()  # dropped at once: nobody here issues for it
    publish_status_lists.call()
    assert _state(demo_world, copy) == "valid"


def test_copies_of_a_type_the_scheme_no_longer_lists_are_all_superseded(demo_world, debtor, wallet):  # noqa: F811
    _press(demo_world, BELASTING, debtor, wallet)
    issued = IssuedCredential.objects.get()
    tenant, expires = issued.status_list.holder, issued.expires_at
    IssuedCredential.allocate(
        tenant, document_type="verdwenen", subject=pseudonym(debtor), data_digest="d", expires_at=expires
    )
    assert freshness.supersede(tenant, debtor, "verdwenen") == 1  # what the source holds cannot be told
    assert IssuedCredential.objects.get(pk=issued.pk).status == VALID
