"""The holder's refusals become HTTP answers in one place (holder/api.py), with stable statuses and codes."""

import json

import pytest
from django.test import RequestFactory

from blauweknop.holder.api import STATUS_FOR_ERROR, refused
from blauweknop.holder.errors import HolderError, NotHere, NotOurs, NotYours, Replayed


def test_every_kind_of_refusal_has_its_own_status():
    assert set(HolderError.__subclasses__()) == set(STATUS_FOR_ERROR)


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (NotHere("no_data", "Nothing."), 404),
        (NotOurs("not_issued_here", "Not ours."), 400),
        (NotYours("not_your_copy", "Not yours."), 403),
        (Replayed("assertion_replayed", "Used before."), 401),
    ],
)
def test_a_refusal_is_a_problem_with_its_status_and_code(error, status):
    response = refused(RequestFactory().post("/belastingkantoor/api/v1/verklaringen"), error)
    body = json.loads(response.content)
    assert response.status_code == status and response["Content-Type"] == "application/problem+json"
    assert (body["status"], body["code"], body["detail"]) == (status, error.code, error.detail)
