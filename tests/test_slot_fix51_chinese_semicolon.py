"""A slots file typed in Excel with a Chinese keyboard: two cars of one slot (一位多车) 粤B12345；粤B12346
(reviewer 51f)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import parse_config
from gateway.runtime.gateway import Gateway
from gateway.store.admin import import_csv
from tests.conftest import site_toml, write_csv


# "\n", "\r\n": each plate on a line of its own in the cell (Excel's Alt+Enter), review 54: the
# import refused '粤B12345\n粤B12346' as not a Chinese licence plate.
@pytest.mark.parametrize("between", ["；", "，", "、", ";", "; ", "\n", "\r\n"])
def test_two_plates_of_a_slot_separated_by_chinese_punctuation(tmp_path: Path, between: str) -> None:
    """README: a slot's `plates` are ;-separated. Typed with a Chinese keyboard the ; is ；, and the
    import refused the row saying '粤B12345；粤B12346' is not a Chinese licence plate."""
    cfg = parse_config(site_toml(tmp_path / "data"), "site.toml")
    files = [
        write_csv(tmp_path / "r.csv", "ref,building,unit,name\nR1,3栋,2单元,张三\n"),
        write_csv(tmp_path / "v.csv", "plate,resident_ref\n粤B12345,R1\n粤B12346,R1\n"),
        write_csv(
            tmp_path / "s.csv", f'zone,number,resident_ref,plates\nmain,A1,R1,"粤B12345{between}粤B12346"\n'
        ),
    ]
    assert import_csv(cfg, files)["slots"] == 1
    gw = Gateway(cfg)
    try:
        plates = gw.conn.execute(
            "SELECT v.plate FROM slot_vehicles s JOIN vehicles v ON v.id = s.vehicle_id ORDER BY v.plate"
        ).fetchall()
    finally:
        gw.conn.close()
    assert plates == [("粤B12345",), ("粤B12346",)]
