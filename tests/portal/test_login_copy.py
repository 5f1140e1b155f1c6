"""Logging in and out says what is true, in plain words (issue 8, item 7)."""

import pytest

from .conftest import log_in


@pytest.mark.django_db
@pytest.mark.parametrize("written", ["{0} {1} {2}", "{0}.{1}.{2}", "{0}-{1}-{2}", " {0}{1}{2} "])
def test_a_bsn_written_in_groups_is_accepted(client, citizen_bsn, demo_world, written):
    # Passports print it in groups; people type it the way they see it.
    typed = written.format(citizen_bsn[:4], citizen_bsn[4:6], citizen_bsn[6:])
    assert log_in(client, typed).status_code == 302


@pytest.mark.django_db
def test_a_number_that_cannot_be_a_bsn_is_called_what_it_is(client, demo_world):
    page = log_in(client, "123456789").content.decode()
    assert "Dit nummer bestaat niet als BSN." in page


@pytest.mark.django_db
def test_logging_out_does_not_claim_the_downloads_are_gone(citizen):
    page = citizen.post("/uitloggen/", follow=True).content.decode()
    assert "van deze computer gewist" not in page
    assert "Wat u downloadde, staat nog op deze computer." in page
