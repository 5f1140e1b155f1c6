"""The requester's tests: a citizen the demo world's tax office holds income for."""

import pytest

from blauweknop.holder.models import SourceRecord

from .world import BELASTING


@pytest.fixture
def bsn(demo_world):
    """A demo citizen whose income the tax office holds."""
    return SourceRecord.objects.filter(holder_oin=BELASTING, document_type="inkomen").values_list("bsn", flat=True)[0]
