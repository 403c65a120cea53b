"""A pass the centre pushed down while the Pi still ran on fake-hwclock's stale boot clock (its
link to the centre's broker on the estate's network up before NTP set the clock)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from centre_helpers import Uplink

from gateway.store.passes import check_out
from tests.parking.conftest import T0
from tests.parking.directory_exit_helpers import delta
from tests.parking.test_operations import Steady, a_new_boot, ops

H = timedelta(hours=1)
S = timedelta(seconds=1)


def test_a_pass_the_centre_sent_is_not_sent_back_up_as_registered_at_the_booth_when_ntp_sets_the_clock(
    tmp_path: Path,
) -> None:
    """The centre pushes visitor pass P77 (its own `ref`, window typed) 15 s after the Pi booted
    three days behind; NTP sets the clock at 60 s. The box never sends a `pass` record for a central
    pass, but the re-dating sends one: `"op": "created"`, `"change": "redated"`, `previous_at` a
    time it was never sent with, and without the pass's `ref`, so the centre files a booth
    registration it cannot tell from its own P77: one visitor, two passes. It should send nothing."""
    up = Uplink(tmp_path)
    gw = up.gw
    boot = T0 - 72 * H
    a_new_boot(gw)
    steady = Steady()
    o = ops(gw, started=boot, steady=steady)
    o.tick(boot)
    steady.s = 15
    pushed = {
        "kind": "pass",
        "ref": "P77",
        "pass_kind": "visitor",
        "name": "李四",
        "phone": "13900001111",
        "host_building": "3栋",
        "host_unit": "2单元",
        "plate": "浙A11111",
        "valid_from": T0.isoformat(),
        "valid_to": (T0 + 24 * H).isoformat(),
    }
    delta(gw, 1, 0, boot + 15 * S, upsert=[pushed])
    (pass_id,) = gw.conn.execute("SELECT id FROM passes WHERE ref = 'P77'").fetchone()
    steady.s = 60
    o.tick(T0 + 60 * S)  # NTP: the clock jumps three days on
    steady.s = 90
    o.tick(T0 + 90 * S)
    records = up.deliver(T0 + 2 * H)
    up.close()
    of_pass = [r for r in records if r["type"] == "pass" and r["pass"]["id"] == pass_id]
    assert of_pass == [], (
        f"the centre's own pass P77 (gateway id {pass_id}) came back up as "
        f"{[(r['op'], r.get('change'), r.get('previous_at'), r['pass'].get('ref')) for r in of_pass]}: "
        "a booth registration the centre cannot match to P77"
    )


def test_a_pass_the_centre_sent_checked_out_on_the_stale_clock_goes_up_again_as_its_check_out_only(
    tmp_path: Path,
) -> None:
    """The centre's P77, stored 15 s after the Pi booted three days behind, is checked out at 30 s;
    NTP sets the clock at 60 s. Its check-out went up dated three days early: it goes again as
    `checked_out`, redated, at its true time; still no `created` record, and its window (the
    centre's) stays as sent."""
    up = Uplink(tmp_path)
    gw = up.gw
    boot = T0 - 72 * H
    a_new_boot(gw)
    steady = Steady()
    o = ops(gw, started=boot, steady=steady)
    o.tick(boot)
    steady.s = 15
    pushed = {
        "kind": "pass",
        "ref": "P77",
        "pass_kind": "visitor",
        "name": "李四",
        "host_building": "3栋",
        "host_unit": "2单元",
        "valid_from": (boot + 15 * S).isoformat(),  # the centre's window, a true time by chance
        "valid_to": (T0 + 24 * H).isoformat(),
    }
    delta(gw, 1, 0, boot + 15 * S, upsert=[pushed])
    (pass_id,) = gw.conn.execute("SELECT id FROM passes WHERE ref = 'P77'").fetchone()
    steady.s = 30
    check_out(gw.conn, pass_id, boot + 30 * S, "guard1")
    steady.s = 60
    o.tick(T0 + 60 * S)  # NTP: the clock jumps three days on
    steady.s = 90
    o.tick(T0 + 90 * S)
    records = up.deliver(T0 + 2 * H)
    up.close()
    of_pass = [r for r in records if r["type"] == "pass" and r["pass"]["id"] == pass_id]
    sent = [(r["op"], r.get("change"), r["at"], r.get("previous_at")) for r in of_pass]
    assert sent == [
        ("checked_out", None, (boot + 30 * S).isoformat(), None),
        ("checked_out", "redated", (T0 + 30 * S).isoformat(), (boot + 30 * S).isoformat()),
    ]
    assert of_pass[-1]["pass"]["checked_out_at"] == (T0 + 30 * S).isoformat()
    assert of_pass[-1]["pass"]["valid_from"] == (boot + 15 * S).isoformat()
