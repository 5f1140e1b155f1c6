"""The operator cannot publish a version whose ``pattern`` makes holders, portals or verifiers search for long
(review F4): every holder validates each new copy against the newest version's schema, inside a request."""

import pytest

from blauweknop import document_types
from blauweknop.scheme import publication
from blauweknop.scheme.catalogue import versions
from blauweknop.scheme.catalogue.versions import PublishRefused, publish_version
from blauweknop.scheme.models import AuditEntry, PublishedDocumentType
from tests.scheme.test_catalogue_versions import vorderingen_v4
from tests.test_document_types import REFUSED_PATTERNS


@pytest.fixture(autouse=True)
def _forget_catalogues():
    yield
    document_types.forget()


def _v4_with_surname_pattern(pattern: str) -> dict:
    definition = vorderingen_v4()
    definition["schema"]["properties"]["naam"]["properties"]["geslachtsnaam"]["pattern"] = pattern
    return definition


@pytest.mark.django_db
@pytest.mark.parametrize("shape", ["bounded-repeats-in-a-row", "five-bounded-repeats", "optionals-then-literals"])
def test_a_version_with_a_pattern_that_can_search_for_long_is_refused_with_the_rules_in_words(shape):
    publication.publish()
    with pytest.raises(PublishRefused) as refused:
        publish_version(_v4_with_surname_pattern(REFUSED_PATTERNS[shape]), actor="beheerder-anna")
    assert refused.value.code == "invalid"
    assert "Een patroon (pattern) begint met ^" in refused.value.message
    assert "niet met * of +" in refused.value.message
    assert not PublishedDocumentType.objects.exists() and not AuditEntry.objects.exists()


@pytest.mark.django_db
def test_a_version_with_a_short_bounded_pattern_is_published():
    publication.publish()
    publish_version(_v4_with_surname_pattern(r"^[\w' -]{1,200}$"), actor="beheerder-anna")
    listed = [v.document_type for v in versions.listed() if v.document_type.id == "vorderingen"]
    newest = max(listed, key=lambda t: t.version)
    assert newest.version == 4
    assert newest.schema["properties"]["naam"]["properties"]["geslachtsnaam"]["pattern"] == r"^[\w' -]{1,200}$"
