"""Materials carried out while a Pi runs on fake-hwclock's stale boot clock, NTP setting it later."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

from gateway.runtime.gateway import Gateway
from gateway.store.materials import record_materials_out
from gateway.store.passes import NewPass, create_pass
from gateway.timefmt import from_db
from tests.parking.conftest import T0, report_of_t0_day
from tests.parking.test_operations import Steady, a_new_boot, ops

H = timedelta(hours=1)
S = timedelta(seconds=1)


def test_materials_carried_out_on_the_stale_boot_clock_move_with_their_contractors_pass(
    make_gw: Callable[..., Gateway],
) -> None:
    """A contractor is registered 15 s after the Pi booted three days behind and carries out an old
    cabinet for 3栋 2单元 at 30 s; NTP sets the clock at 60 s. The pass moves to its true time (T0)
    and the report of T0's day counts the contractor, but the materials record stays three days
    early: carried out before its pass was registered, in another day's report, and the owner is
    told the wrong day. It should move with the boot's other rows, as the pass's check-out does."""
    gw = make_gw()
    boot = T0 - 72 * H
    a_new_boot(gw)
    steady = Steady()
    o = ops(gw, started=boot, steady=steady)
    o.tick(boot)
    registered = boot + 15 * S
    crew = NewPass(
        "contractor", "孙师傅", registered, registered + 8 * H, host_building="3栋", host_unit="2单元"
    )
    pass_id = create_pass(gw.conn, gw.secrets, crew, registered, "guard1")
    steady.s = 30
    record_materials_out(gw.conn, boot + 30 * S, "guard1", items="旧橱柜 1 套", pass_id=pass_id)
    steady.s = 60
    o.tick(T0 + 60 * S)  # NTP: the clock jumps three days
    steady.s = 90
    o.tick(T0 + 90 * S)
    created = from_db(gw.conn.execute("SELECT created_at FROM passes WHERE id = ?", (pass_id,)).fetchone()[0])
    carried = from_db(gw.conn.execute("SELECT at FROM materials_out").fetchone()[0])
    assert created == T0 + 15 * S  # the pass moved to its true time
    report = report_of_t0_day(gw, T0 + 2 * H)
    assert report["visitors_registered"]["contractor"] == 1
    assert carried >= created and report["materials_out"], (
        f"pass {pass_id} is registered at {created.astimezone(T0.tzinfo).isoformat()} and counted on "
        f"{T0.date()}; the cabinet carried out under it 15 s later is recorded at "
        f"{carried.astimezone(T0.tzinfo).isoformat()} (the stale boot clock), and the report of "
        f"{T0.date()} lists materials_out {report['materials_out']}"
    )


def test_the_centre_is_told_when_materials_carried_out_on_the_stale_clock_really_left(
    make_gw: Callable[..., Gateway],
) -> None:
    """The owner of 3栋 2单元 was told from the `materials` record, dated three days early: it goes
    again, redated, at its true time (its inner `at` too), as a payment moved does."""
    gw = make_gw()
    boot = T0 - 72 * H
    a_new_boot(gw)
    steady = Steady()
    o = ops(gw, started=boot, steady=steady)
    o.tick(boot)
    steady.s = 30
    carried = boot + 30 * S
    record_materials_out(
        gw.conn, carried, "guard1", items="旧橱柜 1 套", host_building="3栋", host_unit="2单元"
    )
    steady.s = 60
    o.tick(T0 + 60 * S)  # NTP
    sent = [json.loads(p) for (p,) in gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'materials'")]
    assert [(m["at"], m.get("change"), m.get("previous_at"), m["record"]["at"]) for m in sent] == [
        (carried.isoformat(), None, None, carried.isoformat()),
        ((T0 + 30 * S).isoformat(), "redated", carried.isoformat(), (T0 + 30 * S).isoformat()),
    ]
    assert sent[0]["record"]["id"] == sent[1]["record"]["id"]
