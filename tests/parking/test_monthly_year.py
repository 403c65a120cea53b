"""A monthly car's (月租车) year at the gate. The small estate of tests/parking/conftest.py: R3's
皖C44444 is a monthly car with no slot; R1's 皖A11111 and 皖A22222 share slot B001 (一位多车).
Tariff: first 30 min free, 5元 the first hour, 2元 an hour after, at most 30元 a day."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gateway.errors import Refused
from gateway.runtime.gateway import Gateway
from gateway.store import registry
from gateway.store.admin import import_csv
from gateway.timefmt import to_db
from tests.conftest import write_csv
from tests.parking.conftest import T0, TZ, gw, make_gw, report_of_t0_day, show  # noqa: F401  (fixtures)
from tests.parking.directory_exit_helpers import delta

H = timedelta(hours=1)
M = timedelta(minutes=1)
D = timedelta(days=1)


def _vid(site: Gateway, plate: str) -> int:
    return int(site.conn.execute("SELECT id FROM vehicles WHERE plate = ?", (plate,)).fetchone()[0])


def _lapsed_and_parked(site: Gateway, at: datetime) -> None:
    """皖C44444's month ended the day before `at`; it comes in at `at` as a paying car."""
    site.conn.execute("UPDATE vehicles SET monthly_until = ? WHERE plate = '皖C44444'", (to_db(at - D),))
    came = show(site, "car-in", "皖C44444", at)
    assert came.admitted and came.reason == "temporary" and "monthly_expired" in came.flags


def _last_registry_record(site: Gateway) -> dict[str, object]:
    payload = site.conn.execute(
        "SELECT payload FROM outbox WHERE topic = 'registry' ORDER BY seq DESC LIMIT 1"
    ).fetchone()[0]
    record: dict[str, object] = json.loads(payload)
    return record


def test_car_renewed_the_morning_after_its_month_ran_out_is_not_charged_for_the_renewed_days(
    gw: Gateway,  # noqa: F811
) -> None:
    """The resident's month ended yesterday; he drives in at 09:00 (temporary, 月租过期), walks to the
    office at 10:00 and renews for another month, and drives out three days later. He is asked 90元
    (three days at the temporary cap) for days his renewal paid for. A renewal while parked counts
    (docs/parking.md, Monthly): at most the hour before the renewal (5元) is his to pay, never the
    time after it."""
    _lapsed_and_parked(gw, T0)
    registry.update_vehicle(gw.conn, T0 + H, "admin", _vid(gw, "皖C44444"), {"monthly_until": T0 + 31 * D})
    out = show(gw, "car-out", "皖C44444", T0 + 3 * D)
    assert out.fee_fen <= 500, (out.reason, out.fee_fen)


def test_car_renewed_while_parked_pays_the_hour_before_and_leaves_as_it_came_in(
    gw: Gateway,  # noqa: F811
) -> None:
    """The same renewal: held at the exit for the hour before it (5元), it pays and leaves as the
    temporary car it came in as. The day's report counts no shared-slot handover for it: no second
    car was moved onto a slot."""
    _lapsed_and_parked(gw, T0)
    registry.update_vehicle(gw.conn, T0 + H, "admin", _vid(gw, "皖C44444"), {"monthly_until": T0 + 31 * D})
    held = show(gw, "car-out", "皖C44444", T0 + 5 * H)
    assert (held.reason, held.fee_fen) == ("payment_due", 500)
    paid = gw.decide_now(gw.parking.pay_at_lane("car-out", "皖C44444", 500, "cash", "", "guard1", T0 + 5 * H))
    assert (paid.reason, paid.fee_fen) == ("temporary", 0), (paid.reason, paid.fee_fen)
    assert report_of_t0_day(gw, T0 + D)["parking"]["handovers"] == 0


def test_car_renewed_by_the_centre_while_parked_pays_only_the_time_before(
    gw: Gateway,  # noqa: F811
) -> None:
    """The centre sends the renewal (a delta with the car's new `monthly_until`) at 11:00: the car
    pays at its exit two days later for the two hours before it (7元), as for a renewal at the
    gateway's own office."""
    _lapsed_and_parked(gw, T0)
    renewed = {
        "kind": "vehicle",
        "plate": "皖C44444",
        "resident": "R3",
        "monthly_until": (T0 + 31 * D).isoformat(),
    }
    delta(gw, 1, 0, T0 + 2 * H, upsert=[renewed])
    out = show(gw, "car-out", "皖C44444", T0 + 2 * D)
    assert (out.reason, out.fee_fen) == ("payment_due", 700)


def test_car_renewed_by_an_import_while_parked_pays_only_the_time_before(
    make_gw: Callable[..., Gateway],  # noqa: F811
    tmp_path: Path,
) -> None:
    """The office imports a spreadsheet with the car's renewal two hours after it came in: it pays
    at its exit three days later for those two hours (7元), not three days (the import runs on the
    box's clock, so the car comes in a little less than two hours before now)."""
    site = make_gw()
    came = datetime.now(TZ) - 2 * H + 5 * M
    _lapsed_and_parked(site, came)
    until = (came + 40 * D).date().isoformat()
    import_csv(
        site.site.config,
        [write_csv(tmp_path / "m.csv", f"plate,resident_ref,monthly_until\n皖C44444,R3,{until}\n")],
    )
    out = show(site, "car-out", "皖C44444", came + 3 * D)
    assert (out.reason, out.fee_fen) == ("payment_due", 700)


def test_lapsed_monthly_second_car_of_a_shared_slot_is_flagged_monthly_expired(
    gw: Gateway,  # noqa: F811
) -> None:
    """R1's second car 皖A22222's month ran out yesterday; it comes in while 皖A11111 is on their slot
    and is admitted as a paying temporary car. The guard's panel and the daily report said only
    `shared_slot`: the report's `flags.monthly_expired` was 0, so neither the guard (who has to
    explain why a "monthly" car pays) nor the centre (chasing renewals) was told its month lapsed.
    docs/parking.md, Monthly: a monthly car, also a shared slot's second car, is after its period
    "a temporary car (flag monthly_expired)"."""
    gw.conn.execute("UPDATE vehicles SET monthly_until = ? WHERE plate = '皖A22222'", (to_db(T0 - D),))
    assert show(gw, "car-in", "皖A11111", T0).billing == "slot"
    second = show(gw, "car-in", "皖A22222", T0 + M)
    assert second.admitted and second.reason == "temporary"
    assert "monthly_expired" in second.flags, second.flags
    assert report_of_t0_day(gw, T0 + D)["flags"]["monthly_expired"] == 1


def test_lapsed_monthly_second_car_refused_by_the_policy_is_flagged_monthly_expired(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """Where a shared slot's second car is refused (`policy.shared_slot_second_car = "refuse"`),
    the lapsed monthly second car is refused `slot_occupied`, and the guard is told its month ran
    out (a renewal lets it in)."""
    site = make_gw(shared="refuse")
    site.conn.execute("UPDATE vehicles SET monthly_until = ? WHERE plate = '皖A22222'", (to_db(T0 - D),))
    assert show(site, "car-in", "皖A11111", T0).billing == "slot"
    second = show(site, "car-in", "皖A22222", T0 + M)
    assert (second.admitted, second.reason) == (False, "slot_occupied")
    assert "monthly_expired" in second.flags, second.flags


def test_ending_a_lapsed_month_tells_the_centre_its_end_in_the_site_offset(
    gw: Gateway,  # noqa: F811
) -> None:
    """An admin ends a car's month (`monthly_until: null`). The `registry` record upstream gave the
    end of a month that had already run out in UTC ("2025-03-02T01:00:00+00:00", the stored text's
    offset) where every other record gives the site's (+08:00). docs/mqtt.md: "Date-times are ISO
    8601 with the site's offset". Since review 47i a month run out ends no further ("an ended one
    stays ended"): that change changes nothing and is refused, so no record carries the stored text."""
    running = T0 + D
    gw.conn.execute("UPDATE vehicles SET monthly_until = ? WHERE plate = '皖C44444'", (to_db(running),))
    registry.update_vehicle(gw.conn, T0, "admin", _vid(gw, "皖C44444"), {"monthly_until": None})
    record = _last_registry_record(gw)
    assert record["monthly_until"] == T0.isoformat(), record  # 2025-03-03T09:00:00+08:00
    # Ended again once it has run out, it stays ended: nothing changes, so nothing is audited or sent
    # upstream (review 47i: a change that changes nothing is refused `nothing_to_change`).
    with pytest.raises(Refused) as refused:
        registry.update_vehicle(gw.conn, T0 + H, "admin", _vid(gw, "皖C44444"), {"monthly_until": None})
    assert refused.value.http_code == "nothing_to_change"
    assert _last_registry_record(gw) == record


@pytest.mark.parametrize("offset", [UTC, TZ], ids=["typed-in-utc", "typed-in-site-zone"])
def test_a_renewal_typed_with_another_offset_goes_upstream_in_the_site_offset(
    gw: Gateway,  # noqa: F811
    offset: object,
) -> None:
    """A renewal sent to PATCH /api/vehicles/{id} as "2025-04-02T16:00:00Z" (an admin's script in
    UTC) goes to the centre as the same moment in the site's offset, as every record's times do."""
    until = (T0 + 30 * D).replace(hour=0)  # midnight at the site
    typed = until.astimezone(offset)  # type: ignore[arg-type]
    registry.update_vehicle(gw.conn, T0, "admin", _vid(gw, "皖C44444"), {"monthly_until": typed})
    record = _last_registry_record(gw)
    assert record["monthly_until"] == until.isoformat() == "2025-04-02T00:00:00+08:00", record
