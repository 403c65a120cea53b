"""A lane closed by hand (the guard page, the central server's set_lane_mode) is closed exactly when
its record says so: a kill as it is closed leaves both or neither, never a lane the audit and the
centre have as closed that a resident's card still opens after the restart."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from gateway.config import parse_config
from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from gateway.store.admin import import_csv
from tests.conftest import site_toml, write_csv

ROOT = Path(__file__).resolve().parents[1]  # the checkout: the killed child imports from it

# The gateway dies (power cut, OOM, watchdog) as it writes the lane's mode.
KILLED_WHILE_CLOSING = """
import os, signal, sys
sys.path.insert(0, {root!r})
import gateway.runtime.gateway, gateway.runtime.hand_lanes
from gateway.config import parse_config
gateway.runtime.hand_lanes.set_lane_mode = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)
gw = gateway.runtime.gateway.Gateway(parse_config(open({config!r}, encoding="utf-8").read(), "site.toml"))
gw.start()
gw.by_hand.set_lane_mode("door", "closed", "guard1", "疫情封闭")
"""


def test_a_lane_recorded_as_closed_is_closed_after_a_kill(tmp_path: Path) -> None:
    config = tmp_path / "site.toml"
    config.write_text(site_toml(tmp_path / "data"), encoding="utf-8")
    cfg = parse_config(config.read_text(encoding="utf-8"), "site.toml")
    people = write_csv(tmp_path / "r.csv", "ref,building,unit,name\nR1,3栋,2单元,张三\n")
    import_csv(cfg, [people, write_csv(tmp_path / "c.csv", "card,resident_ref\n0A1B2C3D,R1\n")])
    script = KILLED_WHILE_CLOSING.format(root=str(ROOT), config=str(config))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.stderr

    gw = Gateway(cfg)  # systemd starts it again
    try:
        closes = gw.conn.execute("SELECT count(*) FROM audit WHERE action = 'lane.close'").fetchone()[0]
        upstream = [
            json.loads(p)["action"]
            for (p,) in gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'lane_action'")
        ]
        ev = gw.handle(Presented("door", "card", "0A1B2C3D", 1.0, datetime.now(UTC), "reader"))
    finally:
        gw.conn.close()
    # Closed and on record (here and upstream), or neither: the guard sees it failed and closes it again.
    assert (closes, upstream, ev.reason) in [(1, ["close"], "lane_closed"), (0, [], "resident")]
