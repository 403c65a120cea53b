"""REQUIREMENTS 11: a round the centre was told was late stays late after the route is edited."""

from __future__ import annotations

import json
from pathlib import Path

from gateway.config import parse_config
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, parking_toml, seed
from tests.parking.test_operations import PATROL, H, M, ops, tap

NIGHT = T0.replace(hour=22)
MIDNIGHT_ROUND = "SELECT status FROM patrol_rounds WHERE due_at LIKE '%T16:00%'"  # 00:00 in Shanghai


def overdue_then_restarted(tmp_path: Path, edited: str) -> Gateway:
    """The 00:00 round: cp-a tapped 00:10, cp-b not by 00:50, so it is overdue and patrol_late goes
    to the centre. Then the installer edits the route and restarts the gateway at 01:00."""
    data = tmp_path / "data"
    cfg = parse_config(parking_toml(data, extra=PATROL), "site.toml")
    seed(cfg, tmp_path)
    gw = Gateway(cfg)
    tap(gw, NIGHT + 2 * H + 10 * M, "cp-a")
    ops(gw, started=NIGHT - H).patrols(NIGHT + 2 * H + 50 * M)
    assert gw.conn.execute(MIDNIGHT_ROUND).fetchone() == ("overdue",)
    gw.conn.close()
    return Gateway(parse_config(parking_toml(data, extra=PATROL.replace(*edited.split(" -> "))), "site.toml"))


def told(gw: Gateway) -> list[tuple[str, str]]:
    """What the centre was sent about the 00:00 round (the 22:00 one, never walked, is missed)."""
    payloads = (json.loads(p) for (p,) in gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'alarm'"))
    return [(r["kind"], r["state"]) for r in payloads if r["source"].endswith(" 00:00")]


def test_a_round_reported_late_is_not_turned_into_done_by_removing_a_checkpoint(tmp_path: Path) -> None:
    """cp-b is broken and taken out of the route: judged again on the new route, the round was
    finished by cp-a's tap at 00:10, but the centre was told it was late, and the daily report
    must not count it done on time."""
    gw = overdue_then_restarted(tmp_path, 'checkpoints = ["cp-a", "cp-b"] -> checkpoints = ["cp-a"]')
    ops(gw, started=NIGHT + 3 * H).patrols(NIGHT + 3 * H + M)
    assert gw.conn.execute(MIDNIGHT_ROUND).fetchone() == ("late",)
    assert told(gw) == [("patrol_late", "raised"), ("patrol_late", "cleared")]  # done late, as any
    gw.conn.close()


def test_a_round_reported_late_stays_late_when_the_guard_is_given_more_minutes(tmp_path: Path) -> None:
    """round_minutes raised from 45 to 90 after the round was found overdue: cp-b tapped at 01:05,
    within the new 90 minutes, is a round finished late all the same."""
    gw = overdue_then_restarted(tmp_path, "round_minutes = 45 -> round_minutes = 90")
    o = ops(gw, started=NIGHT + 3 * H)
    o.patrols(NIGHT + 3 * H + M)
    assert gw.conn.execute(MIDNIGHT_ROUND).fetchone() == ("overdue",)  # not pending again
    tap(gw, NIGHT + 3 * H + 5 * M, "cp-b")
    o.patrols(NIGHT + 3 * H + 6 * M)
    assert gw.conn.execute(MIDNIGHT_ROUND).fetchone() == ("late",)
    assert told(gw) == [("patrol_late", "raised"), ("patrol_late", "cleared")]
    gw.conn.close()
