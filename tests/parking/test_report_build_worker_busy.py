"""An admin rebuilds yesterday's report by hand while the decision worker is held up (a batch of
decisions, another process holding the database locked). The build first waits for the worker to
write what was queued before it; the request must give up as the API's other writes do, with a
busy answer that says what to do, not hang for the operations thread's 5 minutes."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import httpx2 as httpx
import pytest

import gateway.api.parking as parking_api
from gateway.runtime.gateway import Gateway
from tests.parking.test_api import serving

API_WAIT_S = 1.0  # the parking API's write timeout (30 s on a real box), shortened for the test
HANG_S = 60.0  # only bounds a hang: the answer comes after API_WAIT_S


def test_report_built_by_hand_while_the_worker_is_stuck_answers_busy_in_time(
    make_gw: Callable[..., Gateway], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The admin's "build" answers within the API's usual wait with 503 busy and "try again", and
    trying again once the worker is free builds the report."""
    monkeypatch.setattr(parking_api, "PARKING_WRITE_S", API_WAIT_S)
    with serving(make_gw()) as (gw, client, auth):
        day = (gw.now() - timedelta(days=1)).date()
        release = threading.Event()
        gw.on_worker(lambda _: release.wait(600))  # the worker, held up until the answer came
        answers: list[tuple[httpx.Response, bool]] = []

        def ask() -> None:
            answer = client.post(f"/api/parking/reports/{day}/build", headers=auth)
            answers.append((answer, release.is_set()))

        asked = threading.Thread(target=ask)
        asked.start()
        asked.join(HANG_S)
        release.set()  # let a hanging request finish, so the test ends either way
        asked.join(60)
        # Answered while the worker was still held up (checked so, not by timing the answer).
        ((answer, worker_freed),) = answers
        assert not worker_freed, "the build request waited for the worker to be free"
        assert answer.status_code == 503, answer.text
        error = answer.json()["error"]
        assert error["code"] == "busy" and error["message"], error
        assert "try again" in error["fix"], error

        again = client.post(f"/api/parking/reports/{day}/build", headers=auth)
        assert again.status_code == 200 and again.json()["day"] == day.isoformat(), again.text
