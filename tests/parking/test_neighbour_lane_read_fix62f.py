"""Review 62c: lanes side by side, a camera that also sees the car in the lane beside it (a car has a
front and a rear plate). A plate read at an entrance and an exit of one gate within SAME_PASSAGE is
one car at one of them: the read at the other is the neighbouring lane's car, recorded as such and
acted on nowhere (flag neighbour_lane). Read at two entrances, it is one entry, let through again at
the second (flag again), as two exits already were (Review 57g)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from gateway.config import parse_config
from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from gateway.web.i18n import js_texts
from tests.parking.conftest import T0, parking_toml, report_of_t0_day, seed, show

S = timedelta(seconds=1)
H = timedelta(hours=1)
SECOND_ENTRANCE = """
[[lanes]]
id = "car-in-2"
gate = "north"
direction = "entrance"
type = "vehicle"
zone = "main"
"""
SOUTH_EXIT = """
[[gates]]
id = "south"
name = "南门"

[[lanes]]
id = "south-out"
gate = "south"
direction = "exit"
type = "vehicle"
zone = "main"
"""


def _open_stays(gw: Gateway) -> list[tuple[str, str | None]]:
    return gw.conn.execute("SELECT plate, slot_id FROM stays WHERE exited_at IS NULL").fetchall()


def test_a_stranger_let_in_and_read_by_the_exit_camera_pays_when_it_really_leaves(gw: Gateway) -> None:
    assert show(gw, "car-in", "苏E12345", T0).admitted
    ghost = show(gw, "car-out", "苏E12345", T0 + S / 2)
    assert not ghost.admitted and "neighbour_lane" in ghost.flags
    assert "no_entry_record" not in ghost.flags and ghost.fee_fen == 0
    assert _open_stays(gw) == [("苏E12345", None)]  # still inside
    real = show(gw, "car-out", "苏E12345", T0 + 2 * H)
    assert real.reason == "payment_due" and real.fee_fen > 0
    assert "no_entry_record" not in real.flags
    report = report_of_t0_day(gw, T0 + 3 * H)  # one car in, none out (held to pay), none refused
    vehicles = report["vehicles"]
    assert (vehicles["entries"]["total"], vehicles["exits"]["total"], report["refusals"]["total"]) == (
        1,
        0,
        0,
    )


def test_a_resident_let_in_onto_his_slot_keeps_it_when_the_exit_camera_reads_him(gw: Gateway) -> None:
    """R1's 皖A11111 in onto B001, read by the exit camera beside the entrance: still parked on it,
    so R1's other car 皖A22222 (一位多车) is the slot's second car."""
    assert show(gw, "car-in", "皖A11111", T0).billing == "slot"
    assert "neighbour_lane" in show(gw, "car-out", "皖A11111", T0 + S / 2).flags
    second = show(gw, "car-in", "皖A22222", T0 + H)
    assert second.admitted and second.billing != "slot"


def test_a_resident_let_out_and_read_by_the_entrance_camera_is_not_inside(gw: Gateway) -> None:
    assert show(gw, "car-in", "皖A11111", T0).admitted
    assert show(gw, "car-out", "皖A11111", T0 + 2 * H).admitted
    ghost = show(gw, "car-in", "皖A11111", T0 + 2 * H + S / 2)
    assert not ghost.admitted and ghost.flags == ("neighbour_lane",)
    assert _open_stays(gw) == []


def test_hard_anti_passback_lets_the_resident_in_that_evening(tmp_path) -> None:  # type: ignore[no-untyped-def]
    d = tmp_path / "hard"
    d.mkdir()
    toml = parking_toml(d / "data").replace('anti_passback = "soft"', 'anti_passback = "hard"')
    cfg = parse_config(toml, "site.toml")
    seed(cfg, d)
    gw = Gateway(cfg)
    try:
        assert show(gw, "car-in", "皖B33333", T0).admitted
        assert show(gw, "car-out", "皖B33333", T0 + H).admitted
        assert "neighbour_lane" in show(gw, "car-in", "皖B33333", T0 + H + S / 2).flags
        assert show(gw, "car-in", "皖B33333", T0 + 10 * H).admitted
    finally:
        gw.conn.close()


def test_reentry_charge_asks_nothing_of_a_stranger_read_by_the_entrance_camera_as_it_left(
    make_gw: Callable[..., Gateway],
) -> None:
    gw = make_gw(reentry="charge")
    assert show(gw, "car-in", "苏E12345", T0).admitted
    assert show(gw, "car-out", "苏E12345", T0 + 10 * timedelta(minutes=1)).admitted
    show(gw, "car-in", "苏E12345", T0 + 10 * timedelta(minutes=1) + S / 2)
    assert show(gw, "car-in", "苏E12345", T0 + 24 * H).admitted
    assert show(gw, "car-out", "苏E12345", T0 + 24 * H + 10 * timedelta(minutes=1)).fee_fen == 0


def test_a_stranger_refused_at_the_entrance_is_not_held_at_the_exit(make_gw: Callable[..., Gateway]) -> None:
    """The car park full: refused at the entrance, read by the exit camera beside it. Decided
    there, it was a car with no entry record held (or refused) at the exit: a phantom the guard is
    called out for. The neighbouring lane's car: one car turned away, at the entrance."""
    gw = make_gw(capacity=0)
    refused = show(gw, "car-in", "苏E12345", T0)
    assert refused.reason == "zone_full"
    ghost = show(gw, "car-out", "苏E12345", T0 + S / 2)
    assert ghost.reason == "wrong_lane" and ghost.flags == ("neighbour_lane",)
    report = report_of_t0_day(gw, T0 + H)
    assert report["refusals"]["total"] == 1, report["refusals"]


def test_a_car_read_first_by_the_exit_camera_as_it_comes_in_is_let_in(gw: Gateway) -> None:
    """The exit camera read the car coming in before the entrance camera did: no entry record
    there, so the entrance's read is the car's own, not the neighbouring lane's."""
    first = show(gw, "car-out", "苏E12345", T0)
    assert "no_entry_record" in first.flags
    entry = show(gw, "car-in", "苏E12345", T0 + S / 2)
    assert entry.admitted and "neighbour_lane" not in entry.flags
    assert _open_stays(gw) == [("苏E12345", None)]


def test_a_plate_typed_by_a_guard_at_the_other_lane_is_decided_as_itself(gw: Gateway) -> None:
    assert show(gw, "car-in", "皖A11111", T0).admitted
    typed = gw.handle(Presented("car-out", "plate", "皖A11111", 1.0, T0 + S / 2, "guard:guard1"))
    assert typed.admitted and "neighbour_lane" not in typed.flags
    assert _open_stays(gw) == []


def test_a_lane_at_another_gate_is_not_beside_it(make_gw: Callable[..., Gateway]) -> None:
    gw = make_gw(extra=SOUTH_EXIT)
    assert show(gw, "car-in", "皖A11111", T0).admitted
    assert "neighbour_lane" not in show(gw, "south-out", "皖A11111", T0 + S / 2).flags


def test_later_than_the_passage_the_other_lane_decides_afresh(gw: Gateway) -> None:
    assert show(gw, "car-in", "皖A11111", T0).admitted
    out = show(gw, "car-out", "皖A11111", T0 + 11 * S)
    assert out.admitted and "neighbour_lane" not in out.flags
    assert _open_stays(gw) == []


def test_one_car_read_at_two_entrance_lanes_is_one_entry(make_gw: Callable[..., Gateway]) -> None:
    gw = make_gw(extra=SECOND_ENTRANCE)
    assert show(gw, "car-in", "苏E12345", T0).admitted
    second = show(gw, "car-in-2", "苏E12345", T0 + S / 2)
    assert second.admitted and "again" in second.flags and "already_inside" not in second.flags
    stays = gw.conn.execute("SELECT exited_at FROM stays").fetchall()
    assert stays == [(None,)]
    report = report_of_t0_day(gw, T0 + H)
    assert report["vehicles"]["entries"]["total"] == 1 and report["flags"]["already_inside"] == 0


def test_the_live_page_says_in_words_it_was_the_next_lanes_car() -> None:
    for language in ("zh", "en"):
        texts = js_texts(language)
        assert not texts["flag.neighbour_lane"].startswith("[")
        assert not texts["ev.neighbour_lane"].startswith("[")
    assert "旁边车道" in js_texts("zh")["ev.neighbour_lane"]
