"""SQLite's writers of one process take turns in order, not in SQLite's sleeping busy handler (issue 7, item 5)."""

import threading
import time
from pathlib import Path

import pytest
from django.db import connection, connections
from django.utils import timezone

from blauweknop import db
from blauweknop.holder.models import UsedAssertion

pytestmark = pytest.mark.django_db(transaction=True)


def _in_thread(work, log: list[str]) -> threading.Thread:
    def run() -> None:
        try:
            work()
            log.append("done")
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _write() -> None:
    with db.write_transaction():
        UsedAssertion.objects.create(jti="written", expires_at=timezone.now())


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite only")
def test_it_lets_a_second_writer_of_this_process_wait_its_turn_before_it_begins():
    log: list[str] = []
    with db._sqlite_writer:  # another writer of this process is inside
        second = _in_thread(_write, log)
        time.sleep(0.3)
        assert log == [] and not UsedAssertion.objects.exists()
    second.join(10)
    assert log == ["done"] and UsedAssertion.objects.filter(jti="written").exists()


def test_it_only_nests_inside_a_transaction_already_begun():
    def nested() -> None:
        with db.write_transaction(), db.write_transaction():
            UsedAssertion.objects.create(jti="nested", expires_at=timezone.now())

    log: list[str] = []
    _in_thread(nested, log).join(10)
    assert log == ["done"]  # taking the lock twice would have waited forever


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite only")
def test_a_deleted_row_leaves_no_trace_in_the_sqlite_files_once_erased():
    """A vault's deleted key must not linger in the database file or its WAL (issue 9 review: it did)."""
    secret = "wrapped-key-" + "0123456789abcdef" * 4
    path = Path(connection.settings_dict["NAME"])
    with db.write_transaction():
        UsedAssertion.objects.create(jti=secret, expires_at=timezone.now())
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA secure_delete")
        assert cursor.fetchone()[0] == 1
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the row is in the main file, as after any while
    with db.write_transaction():
        UsedAssertion.objects.filter(jti=secret).delete()
    assert secret.encode() in path.read_bytes(), "the test must start where the old code left a deleted row"
    db.erase_deleted()
    wal = path.with_name(path.name + "-wal")
    assert secret.encode() not in path.read_bytes()
    assert not wal.exists() or secret.encode() not in wal.read_bytes()


def test_a_thread_about_to_wait_on_another_party_gives_its_connection_back_but_not_inside_a_transaction():
    """A connection held while waiting on this same process took the pool from the answering side (CI, PostgreSQL)."""
    seen: dict[str, bool] = {}

    def wait_on_another() -> None:
        UsedAssertion.objects.exists()
        db.release()
        seen["released"] = connection.connection is None
        with db.write_transaction():
            UsedAssertion.objects.create(jti="kept", expires_at=timezone.now())
            db.release()
            seen["kept in a transaction"] = connection.connection is not None
        seen["written"] = UsedAssertion.objects.filter(jti="kept").exists()

    log: list[str] = []
    _in_thread(wait_on_another, log).join(10)
    assert log == ["done"]
    assert seen == {"released": True, "kept in a transaction": True, "written": True}
