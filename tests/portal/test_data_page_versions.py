"""A copy made before a new catalogue version keeps its own version's words on the portal's pages (issue 11).

The scheme lists the version in force and the ones before it; a copy says which it was made under (``vct``).
The data page, the vault and the debt overview read each copy with that version, not the newest: a label
the new version changed, or a field it added, must not show on a copy that never had it.
"""

import copy
import dataclasses
from datetime import date

import pytest
from django.utils import translation

from blauweknop import document_types
from blauweknop.document_types import Catalogue
from blauweknop.portal import data_page, debts
from blauweknop.scheme import catalogue
from blauweknop.scheme.catalogue.versions import publish_version
from blauweknop.scheme.client import scheme_client
from tests.portal.test_debts import CITY, CITY_DEBTS, DELIVERED, EVERYONE, HOLDERS
from tests.portal.test_vault import _html, _shown_fields, kept  # noqa: F401 (a fixture)
from tests.scheme.test_catalogue_versions import NEW_LABEL, OLD_LABEL, V3, V4, vorderingen_v4

from .conftest import BELASTING

KENMERK = "vorderingen.0.kenmerk"


def _publish_v4() -> None:
    """The operator publishes vorderingen 4 (new words for the reference, one more field); every role refreshes."""
    publish_version(vorderingen_v4(), actor="beheerder-anna")
    scheme_client.forget()
    document_types.forget()


def _data_page_label(html: str, path: str) -> str:
    start = html.index(f'for="veld-vorderingen-{path}"')
    return html[start:].split("<span>", 1)[1].split(":", 1)[0]


@pytest.mark.django_db(transaction=True)
def test_the_data_page_shows_a_copy_fetched_before_a_new_version_with_its_own_words(citizen):
    assert citizen.post(f"/organisaties/{BELASTING}/blauwe-knop/").status_code == 302
    _publish_v4()
    html = citizen.get(f"/organisaties/{BELASTING}/gegevens/").content.decode()
    assert _data_page_label(html, KENMERK) == OLD_LABEL != NEW_LABEL
    assert "Toelichting" not in html  # a field of version 4 only


@pytest.mark.django_db(transaction=True)
def test_the_vault_shows_a_copy_kept_before_a_new_version_with_its_own_words(kept):  # noqa: F811
    _publish_v4()
    shown = _html(kept.post("/kluis/bekijken/", {"kopie": f"{BELASTING}:vorderingen"}))
    labels = [label for label, _value in _shown_fields(shown)]
    # Version 4 calls the debt's reference "Betalingskenmerk" (as version 3 already calls the payment's own).
    assert OLD_LABEL in labels and "Toelichting" not in labels


def _with_new_words(v3: document_types.DocumentType) -> document_types.DocumentType:
    """Vorderingen 4 in which the kind of a municipal tax has other words."""
    fields = []
    for field in v3.fields:
        if field.path == "vorderingen.soort":
            values = {
                **copy.deepcopy(field.values),
                "gemeentelijkeBelastingen": {"nl": "Gemeentetaks", "en": "Town tax"},
            }
            field = dataclasses.replace(field, values=values)
        fields.append(field)
    return dataclasses.replace(v3, version=4, vct=V4, fields=tuple(fields))


def test_the_debt_overview_names_each_debt_in_the_words_of_its_copys_version():
    v3 = catalogue.document_type("vorderingen")
    assert v3.vct == V3
    both = Catalogue.listing([*catalogue.document_types().values(), _with_new_words(v3)])
    old_copy, new_copy = {**CITY_DEBTS, "vct": V3}, {**CITY_DEBTS, "vct": V4}
    with translation.override("nl"):
        for claims, words in ((old_copy, "Gemeentelijke belastingen"), (new_copy, "Gemeentetaks")):
            copies = {(CITY, "vorderingen"): claims}
            found = debts.overview(HOLDERS, both, copies, EVERYONE, DELIVERED, {}, date(2026, 3, 10))
            assert [d.what_for for d in found.debts if d.reference == "GEM-1"] == [words]


def test_a_copy_is_read_with_its_own_listed_version_else_the_newest():
    v3, income = catalogue.document_type("vorderingen"), catalogue.document_type("inkomen")
    both = Catalogue.listing([v3, _with_new_words(v3), income])
    assert data_page.copy_type(both, "vorderingen", {"vct": V3}).version == 3
    assert data_page.copy_type(both, "vorderingen", {"vct": V4}).version == 4
    # A version the scheme no longer lists, none at all, or another type's: the newest of the type asked.
    for claims in ({"vct": V3[:-1] + "2"}, {}, {"vct": income.vct}):
        assert data_page.copy_type(both, "vorderingen", claims).version == 4
    assert data_page.copy_type(both, "paspoort", {"vct": V3}) is None
