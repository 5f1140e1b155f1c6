"""An issuance costs a fixed, small number of SQL statements (issue 7, item 5: the request path).

Each statement is a round trip and, through the ORM, a query compiled in Python: most of the
server's CPU per issuance. Counted on the code path the view runs, on both databases.
"""

from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import async_to_sync
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from blauweknop.holder import api, issuing
from blauweknop.holder.models import IssuedCredential, SourceRecord, StatusListRecord, UsedAssertion
from blauweknop.scheme.client import scheme_client
from tests.holder.test_issue_credential import BELASTING, _assertion

pytestmark = pytest.mark.django_db(transaction=True)

# The tenant look-up; BEGIN; the assertion id; (on PostgreSQL: the citizen's turn, an advisory lock, so that a
# correction cannot slip between reading and superseding); the source record; supersession; the status list
# position; the credential; the access record; COMMIT.
STATEMENTS = 9


@pytest.fixture
def scheme(demo_world):
    return async_to_sync(scheme_client.current)()


def _issue(scheme, wallet, bsn):
    token = _assertion(bsn, wallet)
    with CaptureQueriesContext(connection) as queries:
        api._at_holder("belastingkantoor", scheme, issuing.issue, token, "inkomen", scheme)
    return queries


def test_it_issues_in_nine_statements_once_the_holder_has_a_status_list(scheme, wallet):
    bsn = SourceRecord.objects.filter(holder_oin=BELASTING, document_type="inkomen").values_list("bsn", flat=True)[0]
    _issue(scheme, wallet, bsn)  # the first issuance may start the holder's first list
    queries = _issue(scheme, wallet, bsn)
    expected = STATEMENTS + (connection.vendor == "postgresql")
    assert len(queries) == expected, "\n".join(q["sql"][:120] for q in queries.captured_queries)


def test_it_supersedes_without_a_self_join(scheme, wallet):
    bsn = SourceRecord.objects.filter(holder_oin=BELASTING, document_type="inkomen").values_list("bsn", flat=True)[0]
    updates = [q["sql"] for q in _issue(scheme, wallet, bsn).captured_queries if "holder_issuedcredential" in q["sql"]]
    assert updates and not [sql for sql in updates if "JOIN" in sql.upper()]


def test_it_refuses_a_used_id_in_one_statement_without_a_savepoint_and_the_transaction_goes_on(demo_world):
    expires_at = datetime.now(UTC) + timedelta(minutes=2)
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        assert UsedAssertion.use("an-assertion-id", expires_at) is True
        assert UsedAssertion.use("an-assertion-id", expires_at) is False
        assert UsedAssertion.objects.filter(jti="an-assertion-id").count() == 1  # the transaction still works
    assert not [q for q in queries.captured_queries if "SAVEPOINT" in q["sql"].upper()]


def test_the_positions_taken_in_one_list_are_consecutive_and_recorded(scheme, wallet):
    bsn = SourceRecord.objects.filter(holder_oin=BELASTING, document_type="inkomen").values_list("bsn", flat=True)[0]
    for _ in range(3):
        _issue(scheme, wallet, bsn)
    status_list = StatusListRecord.objects.get(holder_id=BELASTING)
    indexes = sorted(status_list.credentials.values_list("idx", flat=True))
    assert status_list.allocated == 3
    assert indexes == sorted(status_list.index_of(position) for position in range(3))


def test_it_leaves_the_published_token_alone_when_the_list_it_allocated_from_is_saved(scheme, wallet):
    bsn = SourceRecord.objects.filter(holder_oin=BELASTING, document_type="inkomen").values_list("bsn", flat=True)[0]
    _issue(scheme, wallet, bsn)
    status_list = StatusListRecord.objects.get(holder_id=BELASTING)
    assert status_list.publish()
    fields = {"document_type": "inkomen", "subject": "s", "data_digest": "d", "expires_at": timezone.now()}
    allocated = IssuedCredential.allocate(status_list.holder, **fields).status_list
    allocated.save()
    status_list.refresh_from_db()
    assert status_list.token and status_list.token_signed_at and status_list.allocated == 2
