"""The installer renames the car park's zone (main -> garage) while temporary cars are parked in its
shared spaces, restarts, and puts the slots right as docs/parking.md says (import them again into
garage). The cars already inside still count under `main`, a zone the config no longer has: the
garage's shared spaces look empty, and the entrance lets in cars for spaces that are taken."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from gateway.config import parse_config
from gateway.runtime.gateway import Gateway
from gateway.store.admin import import_csv
from tests.conftest import write_csv
from tests.parking.conftest import T0, parking_toml, seed, show

H = timedelta(hours=1)


def test_cars_parked_before_a_zone_rename_still_take_its_spaces(tmp_path: Path) -> None:
    data = tmp_path / "data"
    text = parking_toml(data, capacity=3)  # 3 car spaces: slots B001, B002 and one shared space
    cfg = parse_config(text, "site.toml")
    seed(cfg, tmp_path)
    gw = Gateway(cfg)
    try:
        assert show(gw, "car-in", "苏E10001", T0).reason == "temporary"  # the one shared space
        full = show(gw, "car-in", "苏E10002", T0 + H / 2)
        assert (full.admitted, full.reason) == (False, "zone_full")
    finally:
        gw.conn.close()

    renamed = text.replace('id = "main"', 'id = "garage"').replace('zone = "main"', 'zone = "garage"')
    new_cfg = parse_config(renamed, "site.toml")
    slots = """
        zone,number,resident_ref,plates
        garage,B001,R1,皖A11111;皖A22222
        garage,B002,R2,皖B33333
        """
    import_csv(new_cfg, [write_csv(tmp_path / "slots.csv", slots)])  # the fix the start's ERROR gives
    second = Gateway(new_cfg)
    try:
        again = show(second, "car-in", "苏E10002", T0 + 2 * H)
        zones = second.conn.execute("SELECT plate, zone FROM stays WHERE exited_at IS NULL").fetchall()
    finally:
        second.conn.close()
    assert (again.admitted, again.reason) == (False, "zone_full"), (
        f"the garage's one shared space is taken by 苏E10001, parked before the rename, yet 苏E10002 "
        f"is let in ({again.reason}): open stays {zones}"
    )
