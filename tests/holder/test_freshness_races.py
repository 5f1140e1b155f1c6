"""Freshness under concurrency (issue 12, review findings 4 and 10).

4: an issuance that read a citizen's data before a correction, but commits after it, must neither supersede a
copy with the corrected data nor stay valid itself. Issuance, correction and supersession of one citizen's
document of one type take turns (:func:`blauweknop.holder.freshness.lock_citizen`).

10: a change in the source settles from the moment the worker first saw it, not from its transaction's start
(a long batch commits changes stamped long ago); until then every run looks at it again.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from blauweknop.holder import corrections, issuing
from blauweknop.holder.freshness import SETTLE, digest, follow_source_changes
from blauweknop.holder.models import IssuedCredential, SourceChange, SourceRecord
from blauweknop.protocol.status_list import INVALID, VALID
from tests.holder.test_corrections import _request, _submit
from tests.holder.test_freshness import TYPE, _changed, _data, _update_directly
from tests.holder.test_supersession import BELASTING, _press, debtor  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def _done_or_waiting(threads: list[threading.Thread], waiting: int) -> None:
    """Until every thread ended or ``waiting`` transactions wait for a lock another one holds (at most 30 s)."""
    for _ in range(300):
        if not any(t.is_alive() for t in threads):
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
            if cursor.fetchone()[0] >= waiting:
                return
        time.sleep(0.1)
    pytest.fail("neither finished nor waiting")


def _in_thread(work, *args, failures: list[BaseException]) -> threading.Thread:
    def run():
        try:
            work(*args)
        except BaseException as exc:  # the test reports whatever went wrong
            failures.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_an_issuance_that_read_before_a_correction_leaves_only_copies_of_the_corrected_data_valid(
    demo_world,
    debtor,  # noqa: F811 (the fixture above)
    wallet,
    monkeypatch,
):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite lets one writing transaction in at a time; run with scripts/with-postgres.sh")
    kenmerk = _submit(demo_world, debtor, wallet).json()["kenmerk"]
    read_old, go_on = threading.Event(), threading.Event()
    real, first = issuing.source_adapter, []

    class Slow:
        """Issuance A reads the old data, then is slow to finish (a busy signing key, a GC pause)."""

        def lookup(self, *args):
            data = real().lookup(*args)
            if not first:
                first.append(True)
                read_old.set()
                go_on.wait(30)
            return data

    monkeypatch.setattr(issuing, "source_adapter", Slow)
    failures: list[BaseException] = []
    stale = _in_thread(_press, demo_world, BELASTING, debtor, wallet, failures=failures)
    assert read_old.wait(30)
    # Staff accept the correction, then the citizen fetches again (issuance B), while A has not committed.
    accepting = _in_thread(corrections.accept, _request(kenmerk), "medewerker", "€ 1,00", failures=failures)
    _done_or_waiting([accepting], waiting=1)
    fresh = _in_thread(_press, demo_world, BELASTING, debtor, wallet, failures=failures)
    _done_or_waiting([accepting, fresh], waiting=2)
    go_on.set()
    for thread in (stale, accepting, fresh):
        thread.join(60)
    assert failures == []

    now = SourceRecord.objects.get(holder_oin=BELASTING, document_type=TYPE, bsn=debtor).data
    assert now["vorderingen"][0]["openstaandBedragInCenten"] == 100
    copies = list(IssuedCredential.objects.values_list("data_digest", "status"))
    assert len(copies) == 2
    # Valid exactly when it carries the data the source holds now: no stale copy valid, no fresh one 'vervangen'.
    assert [(d == digest(now), s) for d, s in copies if (d == digest(now)) != (s == VALID)] == []
    assert any(s == INVALID for _, s in copies)


def test_a_change_committed_long_after_its_transaction_began_is_looked_at_again_before_it_is_forgotten(
    demo_world,
    debtor,  # noqa: F811 (the fixture above)
    wallet,
):
    _press(demo_world, BELASTING, debtor, wallet)
    SourceChange.objects.all().delete()  # the seeded world's own changes
    _update_directly(BELASTING, debtor, _changed(_data(BELASTING, debtor)))
    now = timezone.now()
    # A nightly batch: on PostgreSQL the trigger stamps the start of its transaction, long before it committed.
    SourceChange.objects.update(changed_at=now - timedelta(hours=1))
    assert follow_source_changes(now) == 1
    assert SourceChange.objects.get().seen_at == now  # kept: an issuance that read the old data may still commit
    assert follow_source_changes(now + SETTLE - timedelta(seconds=1)) == 0
    assert SourceChange.objects.exists()
    assert follow_source_changes(now + SETTLE + timedelta(seconds=1)) == 0
    assert not SourceChange.objects.exists()
