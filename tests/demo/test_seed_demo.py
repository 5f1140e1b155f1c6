"""The demo world: fictional organisations, valid test BSNs, reproducible and re-runnable."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from blauweknop.demo.citizens import make_citizens
from blauweknop.demo.organisations import ORGANISATIONS
from blauweknop.holder.models import SourceRecord
from blauweknop.protocol.identifiers import is_valid_bsn
from blauweknop.scheme.models import Organisation, PublishedDocument

pytestmark = pytest.mark.django_db


def test_the_same_seed_gives_the_same_citizens():
    first, again, other = make_citizens(7, 30), make_citizens(7, 30), make_citizens(8, 30)
    assert [c.documents for c in first] == [c.documents for c in again]
    assert [c.bsn for c in first] != [c.bsn for c in other]


def test_there_are_two_hundred_citizens_with_valid_test_bsns_and_varied_situations():
    citizens = make_citizens()
    assert len(citizens) == 200 and len({c.bsn for c in citizens}) == 200
    assert all(is_valid_bsn(c.bsn) and c.bsn.startswith("999") for c in citizens)
    kinds = {key for c in citizens for key in c.documents}
    assert {
        ("boeteninning", "vorderingen"),
        ("studiefinanciering", "studieschuld"),
        ("toeslagendienst", "toeslagen"),
        ("belastingkantoor", "inkomen"),
    } <= kinds
    assert any(len(c.documents) == 1 for c in citizens) or any(len(c.documents) <= 2 for c in citizens)


def test_seeding_twice_leaves_one_world_and_a_newer_scheme_document():
    out = io.StringIO()
    call_command("seed_demo", citizens=20, stdout=out)
    call_command("seed_demo", citizens=20, stdout=out)
    assert Organisation.objects.count() == len(ORGANISATIONS) == 17
    assert Organisation.objects.holders().count() == 13
    assert Organisation.objects.filter(is_requester=True).count() == 4  # one of them a municipality that holds too
    assert SourceRecord.objects.values("bsn").distinct().count() == 20
    assert PublishedDocument.objects.current().version == 2
    assert "Demo BSNs" in out.getvalue()
    assert all(o.keys.filter(state="current").count() == 1 for o in Organisation.objects.all())


def test_with_the_holder_role_alone_it_fills_only_its_own_tenants_sources(settings):
    settings.BLAUWEKNOP_ROLES = ["holder"]
    settings.HOLDER_OINS = ["00000001003214345000"]  # the tax office
    out = io.StringIO()
    call_command("seed_demo", citizens=20, stdout=out)
    assert set(SourceRecord.objects.values_list("holder_oin", flat=True)) == {"00000001003214345000"}
    assert set(SourceRecord.objects.values_list("document_type", flat=True)) == {"inkomen", "vorderingen"}
    assert not Organisation.objects.exists() and not PublishedDocument.objects.exists()
    assert "Demo BSNs" in out.getvalue() and "scheme document" not in out.getvalue()


def test_with_the_scheme_role_alone_it_registers_and_publishes_and_writes_no_sources(settings):
    settings.BLAUWEKNOP_ROLES = ["scheme"]
    call_command("seed_demo", citizens=20, stdout=io.StringIO())
    assert Organisation.objects.count() == len(ORGANISATIONS) and PublishedDocument.objects.current().version == 1
    assert not SourceRecord.objects.exists()


TAX_OFFICE = "00000001003214345000"


def _a_real_record() -> SourceRecord:
    # A citizen of the holder's own registry: not one of the demo's, so never seed_demo's to replace.
    return SourceRecord.objects.create(holder_oin=TAX_OFFICE, document_type="inkomen", bsn="123456782", data={})


@pytest.fixture
def real_holder(settings):
    """A holder deployment outside the demo, with one row of its real registry in the source table."""
    settings.DEMO = False
    settings.BLAUWEKNOP_ROLES = ["holder"]
    settings.HOLDER_OINS = [TAX_OFFICE]
    return _a_real_record()


def test_it_refuses_to_write_fictional_people_outside_the_demo(real_holder):
    with pytest.raises(CommandError) as refused:
        call_command("seed_demo", citizens=5, stdout=io.StringIO())
    assert "--fictional-data" in str(refused.value)
    assert list(SourceRecord.objects.all()) == [real_holder]


def test_it_refuses_to_register_fictional_organisations_outside_the_demo(settings):
    settings.DEMO = False
    settings.BLAUWEKNOP_ROLES = ["scheme"]
    with pytest.raises(CommandError):
        call_command("seed_demo", citizens=5, stdout=io.StringIO())
    assert not Organisation.objects.exists() and not PublishedDocument.objects.exists()


def test_it_never_deletes_rows_it_did_not_make(real_holder):
    out = io.StringIO()
    call_command("seed_demo", "--fictional-data", citizens=5, stdout=out)
    call_command("seed_demo", "--fictional-data", citizens=5, stdout=out)  # replaces its own rows, and only those
    assert SourceRecord.objects.filter(pk=real_holder.pk).exists()
    demo_bsns = {citizen.bsn for citizen in make_citizens(count=5)}
    assert set(SourceRecord.objects.exclude(pk=real_holder.pk).values_list("bsn", flat=True)) <= demo_bsns
    assert "Demo world ready" in out.getvalue()


def test_every_demo_document_names_the_citizen_it_is_about():
    for citizen in make_citizens(7, 30):
        person = citizen.documents[("gemeente-voorbeeldstad", "persoonsgegevens")]
        for document in citizen.documents.values():
            assert document["burgerservicenummer"] == citizen.bsn
            assert document["naam"] == person["naam"]
            assert document["geboorte"]["datum"] == person["geboorte"]["datum"]


def test_each_demo_holder_declares_exactly_the_document_types_it_holds():
    # An organisation without data of a type must not be listed as having it (issue 8, item 7).
    held = {key for citizen in make_citizens() for key in citizen.documents}
    declared = {(spec["slug"], type_id) for spec in ORGANISATIONS for type_id in spec.get("document_types", [])}
    assert declared == held
