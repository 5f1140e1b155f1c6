"""`blauweknop verify` says in words what an old copy is: replaced by newer data, or expired (exit code 1 both).

Against the demo world over real HTTP: the scheme document and the holder's status list come from the
live server. A copy is made old as a registry does it: a raw UPDATE in the source table, one worker run.
"""

import pytest
from django.conf import settings

from tests.portal.conftest import BELASTING, citizens_with_income
from tests.portal.superseding import change_at_source
from tests.portal.test_printed_copy import download
from tests.portal.test_verify_verdicts import issued_by_the_tax_office

from .test_cli import run_cli

pytestmark = pytest.mark.django_db(transaction=True)

SUPERSEDED = (
    "NOT VALID (revoked): Replaced by newer data: the organisation changed the data after this copy was made. "
    "Ask for a new copy (the citizen downloads one with the Blauwe Knop)."
)
EXPIRED = "NOT VALID (expired): Expired: its end date has passed. Ask for a new one."


def _verify(path):
    """The command as a receiver runs it: trusting the scheme document the operator publishes."""
    scheme = f"{settings.SCHEME_URL}/api/v1/stelseldocument"
    return run_cli(
        "verify", path, "--scheme-document", scheme, "--scheme-jwks", f"{settings.SCHEME_URL}/api/v1/jwks.json"
    )


@pytest.fixture
def two_citizens(demo_world):
    """Two logged-in citizens, each with income at the tax office, and their BSNs."""
    return citizens_with_income(2)


@pytest.mark.parametrize("kind", ["sdjwt", "pdf"])
def test_a_copy_changed_at_the_source_is_replaced_by_newer_data_and_the_other_citizens_is_valid(
    two_citizens, tmp_path, kind
):
    (changed, changed_bsn), (other, _) = two_citizens
    old, others = tmp_path / f"old.{kind}", tmp_path / f"others.{kind}"
    old.write_bytes(download(changed, kind))
    others.write_bytes(download(other, kind))
    before = _verify(old)
    assert before.returncode == 0 and before.stdout.startswith("VALID"), before.stdout + before.stderr
    change_at_source(BELASTING, changed_bsn)
    after = _verify(old)
    assert (after.returncode, after.stdout.strip(), after.stderr) == (1, SUPERSEDED, "")
    still = _verify(others)
    assert still.returncode == 0 and "Replaced" not in still.stdout


def test_an_expired_copy_says_expired(demo_world, tmp_path):
    copy = tmp_path / "old.sdjwt"
    copy.write_text(issued_by_the_tax_office(days_ago=3, valid_days=1))
    result = _verify(copy)
    assert (result.returncode, result.stdout.strip()) == (1, EXPIRED)
