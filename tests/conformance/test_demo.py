"""The kit passes against every holder and requester of the demo, over real HTTP."""

from __future__ import annotations

from tests.conformance.conftest import demo_holders, holder_args, run_kit


def test_every_demo_holder_conforms(demo, scheme, app_manager_key, capsys):
    holders = demo_holders(scheme)
    assert len(holders) >= 13
    for holder in holders:
        code, report = run_kit(capsys, *holder_args(demo, holder, app_manager_key))
        failures = [(c["name"], c["reason"]) for c in report["checks"] if not c["passed"]]
        assert (code, failures) == (0, []), holder.name
        assert report["passed"] is True
        assert report["organisation"]["oin"] == holder.oin
