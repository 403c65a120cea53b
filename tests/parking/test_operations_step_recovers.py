"""An operations step that fails (a report that cannot be built on a full disk) is said once in the
journal; the installer who freed the room must also read that it works again, once."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

import pytest

from gateway.parking.operations import Operations
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0
from tests.parking.test_operations import ops


def test_a_failing_step_is_said_once_and_its_recovery_once(
    make_gw: Callable[..., Gateway], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    gw = make_gw()
    o = ops(gw)
    real = Operations.reports
    failing = [True]

    def reports(self: Operations, now: object) -> None:
        if failing[0]:
            raise OSError(28, "No space left on device")
        real(self, now)  # type: ignore[arg-type]

    monkeypatch.setattr(Operations, "reports", reports)
    caplog.set_level(logging.INFO, logger="gateway.parking.operations")
    for minute in range(3):
        o.tick(T0 + timedelta(minutes=minute))
    failing[0] = False
    for minute in range(3, 6):
        o.tick(T0 + timedelta(minutes=minute))
    said = [r.getMessage() for r in caplog.records if "step reports" in r.getMessage()]
    assert len(said) == 2, said  # once as it fails, with why and what to do, once as it works again
    assert said[0].startswith("operations step reports failed (will retry"), said
    assert "fix=free disk space" in said[0], said
    assert said[1] == "operations step reports works again"
