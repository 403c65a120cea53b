"""Two guards on two tablets work the same lane at the same moment, while the decision worker is
busy for a moment (a rush of cars: the lane's record waits its turn). docs/guard-app.md: a lane
closed already, or reopened when it is not closed, is 409 already_done; each lane action on the live
stream carries its own audit row's audit_id (a page shows each audit_id once)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, make_gw  # noqa: F401  (fixture)
from tests.parking.test_report_figures import Clock, serving

RELAY = """
[[devices]]
id = "car-in-barrier"
lane = "car-in"
kind = "relay"
driver = "simulated"
"""


def test_a_lane_closed_on_two_tablets_at_once_is_closed_once(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """docs/guard-app.md: a lane closed already is 409 already_done (已由他人处理). Pressed on two
    tablets within the same moment, both are told 已完成 and the lane is closed twice on record: two
    lane.close audit rows and two lane_action records to the centre, which counts two closures by
    two guards. One closes it; the other is told already_done and nothing more is written."""
    gw = make_gw()
    with serving(gw, Clock(T0)) as (client, auth):
        busy = threading.Event()
        gw.on_worker(lambda _c: busy.wait(10))  # the worker deciding a queue of cars
        answers: list[int] = []

        def close() -> None:
            r = client.post("/api/lanes/car-in/close", headers=auth, json={"reason": "封闭管理"})
            answers.append(r.status_code)

        tablets = [threading.Thread(target=close) for _ in range(2)]
        for t in tablets:
            t.start()
        time.sleep(0.5)  # both presses are in
        busy.set()
        for t in tablets:
            t.join(15)

        def facts(c: Any) -> tuple[int, list[str]]:
            audited = c.execute("SELECT count(*) FROM audit WHERE action = 'lane.close'").fetchone()[0]
            sent = [
                json.loads(p).get("action")
                for (p,) in c.execute("SELECT payload FROM outbox WHERE topic = 'lane_action'").fetchall()
            ]
            return audited, sent

        audited, sent = gw.on_worker(facts).result(10)
    assert (sorted(answers), audited) == ([200, 409], 1), f"answers {answers}, upstream {sent}"


def test_a_lane_reopened_on_two_tablets_at_once_is_not_shown_reopened_twice(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """The same race on 开放通道 Reopen lane: the second press writes nothing (the lane is open by
    then) but is answered 200 and pushed to every live page as a reopening by that guard, with no
    audit row behind it (audit_id null): the pages list a reopening that is on no record, and the
    guard is not told it was already done (409 already_done)."""
    gw = make_gw()
    with serving(gw, Clock(T0)) as (client, auth):
        closed = client.post("/api/lanes/car-in/close", headers=auth, json={"reason": "封闭"})
        assert closed.status_code == 200
        published: list[dict[str, Any]] = []
        hub = client.app.state.guard.hub
        real = hub.publish

        def publish(kind: str, data: Any) -> None:
            if kind == "action":
                published.append(data)
            real(kind, data)

        hub.publish = publish
        busy = threading.Event()
        gw.on_worker(lambda _c: busy.wait(10))
        answers: list[int] = []

        def reopen() -> None:
            r = client.post("/api/lanes/car-in/reopen", headers=auth, json={"reason": "解除封闭"})
            answers.append(r.status_code)

        tablets = [threading.Thread(target=reopen) for _ in range(2)]
        for t in tablets:
            t.start()
        time.sleep(0.5)
        busy.set()
        for t in tablets:
            t.join(15)
    assert sorted(answers) == [200, 409] and [a["audit_id"] is not None for a in published] == [True], (
        answers,
        published,
    )


def test_two_openings_by_one_account_are_two_rows_on_the_live_pages(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """Both openings are on record (two lane.open audit rows), but the live stream sends both
    `action` events with the audit_id of the first: every live page shows an action once by its
    audit_id (live.js actionsShown), so each tablet lists one opening where two were made, until
    it is reloaded. Each action event must carry its own audit row's id."""
    gw = make_gw(extra=RELAY)
    with serving(gw, Clock(T0)) as (client, auth):
        published: list[dict[str, Any]] = []
        hub = client.app.state.guard.hub
        real = hub.publish

        def publish(kind: str, data: Any) -> None:
            if kind == "action":
                published.append(data)
            real(kind, data)

        hub.publish = publish
        busy = threading.Event()
        gw.on_worker(lambda _c: busy.wait(10))  # the worker deciding a queue of cars
        answers: list[int] = []

        def open_once(why: str) -> None:
            r = client.post("/api/lanes/car-in/open", headers=auth, json={"reason": why})
            answers.append(r.status_code)

        tablets = [threading.Thread(target=open_once, args=(w,)) for w in ("车队第一辆", "车队第二辆")]
        for t in tablets:
            t.start()
        time.sleep(0.5)
        busy.set()
        for t in tablets:
            t.join(15)
        rows = gw.on_worker(
            lambda c: [r[0] for r in c.execute("SELECT id FROM audit WHERE action = 'lane.open' ORDER BY id")]
        ).result(10)
    assert answers == [200, 200] and len(rows) == 2
    assert sorted(a["audit_id"] for a in published) == rows, (published, rows)
