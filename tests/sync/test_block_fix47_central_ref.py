"""A guard's block of a card, plate or QR goes up naming its holder as the centre knows it: a pass
the centre sent down by its `ref` (the QR's value never leaves the gateway), a resident by theirs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from gateway.store.passes import NewPass, create_pass
from gateway.store.registry import set_blocked
from tests.parking.conftest import T0, parking_config, seed
from tests.parking.directory_exit_helpers import delta

H = timedelta(hours=1)
QR = "VQR-P77-2b9e41c07d3a"


@pytest.fixture
def estate(tmp_path: Path) -> Iterator[Gateway]:
    """The parking tests' estate (tests/parking/conftest.py: residents R1-R4 and their cars)."""
    cfg = parking_config(tmp_path / "data")
    seed(cfg, tmp_path)
    gw = Gateway(cfg)
    yield gw
    gw.conn.close()


def _blocks(gw: Gateway) -> list[dict[str, Any]]:
    rows = gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'registry' ORDER BY seq").fetchall()
    return [r for r in (json.loads(p) for (p,) in rows) if r.get("op") in ("block", "unblock")]


def test_the_centre_can_tell_which_of_its_passes_the_booth_blocked(estate: Gateway) -> None:
    gw = estate
    """The centre sends down visitor pass P77; she reports her printed QR lost and the guard blocks
    it at the booth. The `registry` block record that went up named only the gateway's own row ids
    (kind qr, value null, pass_id N), which no record ever tied to P77: the centre could not tell
    which of its passes is blocked (nor warn the host). It names the pass as the centre knows it,
    its `ref` P77, as the pass's check-out record does."""
    pushed = {
        "kind": "pass", "ref": "P77", "pass_kind": "visitor", "name": "李四",
        "host_building": "3栋", "host_unit": "2单元",
        "valid_from": T0.isoformat(), "valid_to": (T0 + 12 * H).isoformat(),
        "credentials": [{"kind": "qr", "value": QR}],
    }
    delta(gw, 1, 0, T0, upsert=[pushed])
    set_blocked(gw.conn, T0 + H, "guard1", ("qr", QR), True, "访客二维码丢失")
    assert not gw.handle(Presented("door", "qr", QR, 1.0, T0 + 2 * H, "door-reader")).admitted
    blocks = _blocks(gw)
    assert len(blocks) == 1, blocks
    sent = blocks[0]
    assert "P77" in json.dumps(sent, ensure_ascii=False), (
        f"the block of central pass P77's QR went up as {sent}: nothing in it names P77"
    )
    assert (sent["pass_ref"], sent["resident"], sent["value"]) == ("P77", None, None), sent


def test_a_booth_pass_block_has_no_ref_and_a_residents_plate_block_names_the_resident(
    estate: Gateway,
) -> None:
    gw = estate
    """A pass registered at the booth has no `ref` (the centre knows it by the `pass` record's id);
    a resident's card or plate is named by its value and its holder by the resident's ref, as the
    record of a card's addition names them."""
    visit = NewPass(
        "visitor", "钱七", T0, T0 + 10 * H, host_building="3栋", host_unit="2单元", plate="苏E66666"
    )
    create_pass(gw.conn, gw.secrets, visit, T0, "guard1")
    set_blocked(gw.conn, T0 + H, "guard1", ("plate", "苏E66666"), True, "辱骂保安")
    set_blocked(gw.conn, T0 + H, "guard1", ("plate", "皖B33333"), True, "业主报车辆被盗")  # R2's car
    booth, resident = _blocks(gw)
    assert (booth["value"], booth["pass_ref"], booth["resident"]) == ("苏E66666", None, None), booth
    assert booth["pass_id"] is not None, booth
    assert (resident["value"], resident["resident"], resident["pass_id"], resident["pass_ref"]) == (
        "皖B33333", "R2", None, None
    ), resident
