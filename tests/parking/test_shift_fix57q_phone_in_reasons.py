"""Review 57q: 1528264 masked a phone number in the 交班 note, a method correction's reason and an
alarm acknowledgement's note, but the other free texts a guard or admin types (a lane's 开闸 or
hold reason, a stay's closing reason) went upstream and into the audit trail in clear (REQUIREMENTS
*Privacy*). Found by reviewer q. A reason is now masked as it enters (api/deps.Words)."""

from __future__ import annotations

from collections.abc import Callable

from gateway.runtime.gateway import Gateway
from tests.parking.test_api import show
from tests.parking.test_shift_handover_api import H, M, booth

PHONE = "13812345678"


def _in_clear(gw: Gateway) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    def read(c):  # type: ignore[no-untyped-def]
        up = c.execute("SELECT topic, payload FROM outbox WHERE payload LIKE ?", (f"%{PHONE}%",)).fetchall()
        au = c.execute("SELECT action, detail FROM audit WHERE detail LIKE ?", (f"%{PHONE}%",)).fetchall()
        return [tuple(r) for r in up], [tuple(r) for r in au]

    return gw.on_worker(read).result(10)


def test_a_phone_number_in_a_stay_close_reason_never_goes_up_in_clear(
    make_gw: Callable[..., Gateway],
) -> None:
    with booth(make_gw) as (gw, clock, client, token):
        clock["now"] += M
        show(gw, "car-in", "苏E40001", gw.now() - 2 * H)
        stays = client.get("/api/parking/stays", headers=token).json()
        (stay,) = [s for s in stays if s["plate"] == "苏E40001"]
        closed = client.post(
            f"/api/parking/stays/{stay['stay_id']}/close",
            headers=token,
            json={"reason": f"车主来电{PHONE}说车昨晚已开走"},
        )
        assert closed.status_code == 200, closed.text
        upstream, audit = _in_clear(gw)
        assert upstream == [] and audit == [], f"in clear upstream: {upstream}; in the audit trail: {audit}"


RELAY = """
[[devices]]
id = "car-out-barrier"
lane = "car-out"
kind = "relay"
driver = "simulated"
"""


def test_a_phone_number_in_a_guards_open_by_hand_reason_never_goes_up_in_clear(
    make_gw: Callable[..., Gateway],
) -> None:
    """开闸 for a car held to pay, the reason asked: 业主电话… 确认. The lane_action record and the
    stay's closed_by_hand record carried the number as typed; the guard's page is told it masked."""
    from gateway.core import Presented
    from tests.parking.conftest import T0
    from tests.parking.test_report_figures import Clock, serving

    gw = make_gw(extra=RELAY)
    clock = Clock(T0)
    with serving(gw, clock) as (client, auth):
        for lane, at in (("car-in", T0), ("car-out", T0 + 2 * H)):
            clock.at = at
            seen = Presented(lane, "plate", "苏E40002", 0.97, at, "cam")
            gw.on_worker(lambda _, seen=seen: gw.handle(seen)).result(10)
        clock.at = T0 + 2 * H + M
        opened = client.post("/api/lanes/car-out/open", headers=auth, json={"reason": f"业主电话{PHONE}确认"})
        assert opened.status_code == 200, opened.text
        assert opened.json()["reason"] == "业主电话138****5678确认"
        upstream, audit = _in_clear(gw)
        assert upstream == [] and audit == [], f"in clear upstream: {upstream}; in the audit trail: {audit}"
