"""Fixtures for the holder API tests."""

import pytest

from blauweknop.protocol.jwk import SigningKey, generate_jwk


@pytest.fixture
def wallet():
    """A citizen's wallet key, as the portal makes one per session."""
    return SigningKey(generate_jwk())
