"""A fee the guard takes at the lane a moment before the report period ends is stamped then, but
written in its turn on the decision worker. The day's report, built on the operations thread just
after the period ends, must wait for it: read before it was written, the fee fell in no report
(the next one starts after it)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0

H = timedelta(hours=1)
S = timedelta(seconds=1)
DAY = T0.replace(hour=0)  # Monday 3 March 2025 00:00, Shanghai; reports.hour is 0
PLATE = "苏E00001"


def _look(gw: Gateway, lane: str, at: datetime) -> AccessEvent:
    p = Presented(lane, "plate", PLATE, 0.97, at, "cam")
    return gw.on_worker(lambda _: gw.handle(p)).result(10)


def test_fee_taken_at_2359_59_while_the_worker_is_busy_is_in_that_days_report(
    make_gw: Callable[..., Gateway],
) -> None:
    """Held at 23:59:50, the guard takes 30元 at 23:59:59 as the worker is busy a moment (a batch
    of decisions, a disk flush); the operations thread builds the 3 March report at 00:00:20. The
    30元 is that day's revenue, not in no report at all."""
    gw = make_gw()
    clock = {"at": DAY + 10 * H}
    gw.now = lambda: clock["at"]  # type: ignore[method-assign]
    gw.start()
    try:
        _look(gw, "car-in", DAY + 10 * H)
        held = _look(gw, "car-out", DAY + 24 * H - 10 * S)
        assert held.reason == "payment_due", held

        release = threading.Event()
        gw.on_worker(lambda _: release.wait(20))  # the worker, busy a moment
        at = DAY + 24 * H - S  # 23:59:59
        pay = gw.parking.pay_at_lane("car-out", PLATE, held.fee_fen, "cash", "", "guard1", at)
        paid = gw.decide_after(pay)

        clock["at"] = DAY + 24 * H + 20 * S
        built: list[list[str]] = []
        reports = threading.Thread(target=lambda: built.append(gw.operations.reports(clock["at"])))
        reports.start()
        until = time.monotonic() + 10
        while gw.worker.backlog() < 2 and reports.is_alive() and time.monotonic() < until:
            time.sleep(0.05)  # the report's turn on the worker, queued behind the fee
        release.set()
        assert paid.result(10).admitted
        reports.join(20)
        assert built == [["2025-03-03"]]
        (body,) = gw.conn.execute("SELECT body FROM daily_reports WHERE day = '2025-03-03'").fetchone()
    finally:
        gw.stop()
    parking = json.loads(body)["parking"]
    assert (parking["revenue_fen"], parking["payments"]) == (held.fee_fen, 1), parking
