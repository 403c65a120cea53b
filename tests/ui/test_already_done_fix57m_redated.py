"""A visitor checked out on the stale boot clock (a Pi has no RTC), the answer lost on the Wi-Fi; NTP
then sets the clock and the gateway re-dates the pass's checked_out_at (store/redate.py), never its
audit row, which is append-only. The guard taps 离开 again: the gateway looked for who checked it out
by the audit row with the pass's time, found none, and the 409 named nobody, so the page said
已由他人处理（另一台平板）of his own check-out (review 57m). It names him, at the re-dated time."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from gateway.errors import Conflict
from gateway.runtime.gateway import Gateway
from gateway.store.passes import NewPass, check_out, create_pass
from gateway.timefmt import from_db
from tests.parking.conftest import T0, parking_config, seed
from tests.parking.test_operations import Steady, a_new_boot, ops

M = timedelta(minutes=1)
STALE = T0 - timedelta(days=3)  # booted at the true Monday 09:00, the clock saying Friday 09:00


def test_his_own_check_out_re_dated_by_ntp_still_names_him(tmp_path: Path) -> None:
    cfg = parking_config(tmp_path / "data")
    seed(cfg, tmp_path)
    gw = Gateway(cfg)
    try:
        a_new_boot(gw)
        steady = Steady()
        o = ops(gw, started=STALE, steady=steady)
        o.tick(STALE)
        visit = NewPass("visitor", "王五", STALE + M, STALE + 240 * M, host_building="3栋", host_unit="2单元")
        pid = create_pass(gw.conn, gw.secrets, visit, STALE + M, "guard1")
        steady.s = 58 * 60
        check_out(gw.conn, pid, STALE + 58 * M, "guard1")  # done; its answer lost on the Wi-Fi
        steady.s = 60 * 60
        o.tick(T0 + 60 * M)  # NTP sets the clock: this boot's rows re-dated
        steady.s = 61 * 60
        o.tick(T0 + 61 * M)
        (moved,) = gw.conn.execute("SELECT checked_out_at FROM passes WHERE id = ?", (pid,)).fetchone()
        (audited,) = gw.conn.execute(
            "SELECT at FROM audit WHERE action = 'visitor.check_out' AND target = ?", (f"pass:{pid}",)
        ).fetchone()
        assert moved != audited  # the pass re-dated, its audit row as written (the premise)
        with pytest.raises(Conflict) as again:
            check_out(gw.conn, pid, T0 + 62 * M, "guard1")  # he taps 离开 again
        data = dict(again.value.data or {})
        assert (data.get("by"), data.get("state")) == ("guard1", "same_account"), (
            f"his own check-out, re-dated by NTP, named nobody (the page: 已由他人处理（另一台平板）): {data}"
        )
        assert data["at"] == from_db(moved).astimezone(T0.tzinfo).isoformat(timespec="seconds")  # type: ignore[union-attr]
    finally:
        gw.conn.close()
