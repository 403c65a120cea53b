"""Review 60a: a resident's car registered ahead of its first day (its vehicle's valid_from
tomorrow, its month paid up from then) arriving the evening before was shut out, 禁止入内
未到有效期 (`not_yet_valid`), where an unregistered car and the same owner's car with its month run
out were let in as temporary cars that pay: the driver who had just bought a month was the one car
at the barrier not let in to pay. At a car entrance a resident's plate outside its registration
(not begun, or ended) is decided as an unregistered car is, flagged with why (docs/parking.md,
*No slot / unregistered*); a card, and a pass's plate, are refused as before."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from drivers.simulated import SimulatedDisplay
from gateway.api.views import from_event
from gateway.config import parse_config
from gateway.runtime.gateway import Gateway
from gateway.runtime.texts import display_lines
from gateway.store.admin import import_csv
from gateway.web.i18n import TEXTS
from tests.conftest import write_csv
from tests.parking.conftest import T0, parking_toml, pay, report_of_t0_day, seed, show

H = timedelta(hours=1)
EVENING = T0 + 12 * H  # 21:00 on 2025-03-03, the day before the new car's registration starts
NEW_CAR = "皖C66666"  # R3's second car, sold a month from 2025-03-04
GONE_CAR = "皖C77777"  # R3's car whose registration ended on 2025-03-01


def _register(gw: Gateway, tmp_path: Path) -> None:
    cars = write_csv(
        tmp_path / "v.csv",
        "plate,resident_ref,monthly_until,valid_from,valid_to\n"
        f"{NEW_CAR},R3,2025-04-30,2025-03-04,\n"
        f"{GONE_CAR},R3,2025-04-30,,2025-03-01\n",
    )
    import_csv(gw.site.config, [cars])


def test_a_car_the_evening_before_its_first_day_comes_in_paying(gw: Gateway, tmp_path: Path) -> None:
    _register(gw, tmp_path)
    stranger = show(gw, "car-in", "苏E12345", EVENING)
    assert stranger.admitted and stranger.reason == "temporary"
    lapsed = show(gw, "car-in", "皖D55555", EVENING)  # R4's car, its month ran out in January
    assert lapsed.admitted and lapsed.reason == "temporary"
    early = show(gw, "car-in", NEW_CAR, EVENING)
    assert (early.admitted, early.reason, early.billing) == (True, "temporary", "temporary"), early.reason
    assert "registration_not_yet_valid" in early.flags
    assert display_lines(early, "zh", "entrance") == ["登记未生效 临时车 请入场", NEW_CAR]
    assert "registration_not_yet_valid" in from_event(gw, early)["flags"]  # the guard's live panel
    assert TEXTS["flag.registration_not_yet_valid"][0] == "登记未生效"

    # The next morning its registration has begun: it leaves as the temporary car it came in as,
    # paying its stay (its month counts from its next entry).
    out = show(gw, "car-out", NEW_CAR, EVENING + 12 * H)
    assert (out.admitted, out.reason, out.billing) == (False, "payment_due", "temporary")
    display = gw.devices.lanes["car-out"].displays[0]
    assert isinstance(display, SimulatedDisplay)
    assert display.shown[-1] == [f"请缴费 {out.fee_fen // 100}元", NEW_CAR]
    assert pay(gw, NEW_CAR, out.fee_fen, EVENING + 12 * H).admitted
    back = show(gw, "car-in", NEW_CAR, EVENING + 14 * H)  # registered and paid up: a monthly car
    assert (back.admitted, back.reason, back.flags) == (True, "monthly", ())


def test_a_car_past_its_registration_comes_in_paying(gw: Gateway, tmp_path: Path) -> None:
    _register(gw, tmp_path)
    ended = show(gw, "car-in", GONE_CAR, EVENING)
    assert (ended.admitted, ended.reason) == (True, "temporary")
    assert "registration_expired" in ended.flags
    assert display_lines(ended, "zh", "entrance") == ["登记已过期 临时车 请入场", GONE_CAR]


def test_a_car_whose_registration_ended_while_parked_still_leaves(gw: Gateway, tmp_path: Path) -> None:
    came = show(gw, "car-in", "皖C44444", T0)  # R3's monthly car, paid up to 2026
    assert came.reason == "monthly"
    ended = "plate,resident_ref,monthly_until,valid_to\n皖C44444,R3,2026-12-31,2025-03-03\n"
    cars = write_csv(tmp_path / "v.csv", ended)
    import_csv(gw.site.config, [cars])
    out = show(gw, "car-out", "皖C44444", T0 + 2 * 24 * H)
    assert out.admitted and out.reason == "monthly"


def test_where_unregistered_cars_are_refused_it_is_refused_as_before(tmp_path: Path) -> None:
    text = parking_toml(tmp_path / "data").replace("[policy]\n", '[policy]\nunknown_vehicle = "refuse"\n')
    cfg = parse_config(text, "site.toml")
    seed(cfg, tmp_path)
    gw = Gateway(cfg)
    try:
        _register(gw, tmp_path)
        assert show(gw, "car-in", "苏E12345", EVENING).reason == "unknown"
        early = show(gw, "car-in", NEW_CAR, EVENING)
        assert (early.admitted, early.reason, early.flags) == (False, "not_yet_valid", ())
    finally:
        gw.conn.close()


def test_the_daily_report_counts_the_cars_let_in_outside_their_registration(
    gw: Gateway, tmp_path: Path
) -> None:
    """The office reads in the day's report how many residents' cars came in paying because their
    registration had not begun or had ended (its flags), as it reads the lapsed months."""
    _register(gw, tmp_path)
    show(gw, "car-in", NEW_CAR, EVENING)
    show(gw, "car-in", GONE_CAR, EVENING)
    flags = report_of_t0_day(gw, EVENING + 12 * H)["flags"]
    assert (flags["registration_not_yet_valid"], flags["registration_expired"]) == (1, 1), flags


def test_a_car_whose_resident_has_moved_out_comes_in_paying(gw: Gateway, tmp_path: Path) -> None:
    """R2's lease ended on 2025-03-01 (his own valid_to; his car's registration has no end): his car
    back at the gate is a car the register no longer lets in as anyone's, and comes in paying as
    any unregistered car does, not shut out 已过期 while strangers come in."""
    residents = write_csv(
        tmp_path / "r.csv", "ref,building,unit,name,valid_to\nR2,5栋,1单元,李四,2025-03-01\n"
    )
    import_csv(gw.site.config, [residents])
    back = show(gw, "car-in", "皖B33333", EVENING)
    assert (back.admitted, back.reason, back.billing) == (True, "temporary", "temporary"), back.reason
    assert "registration_expired" in back.flags
