"""Upgrading from stop 46's release (2c6cb08, schema 46) to schema migration 47: the cards an older
release remembered for the exit door though they were blocked when struck off are told by the
order of the audit trail (its ids), not by its times against the entry's (a block dated on a stale
boot clock, a card found and issued again); and the block records it queued with the link down go
up naming the holder as the centre knows it (`resident`, `pass_ref`), as docs/mqtt.md promises."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from tests.old_release import OldRelease, old_release
from tests.parking.conftest import DOOR_OUT_WITH_LOCK, T0, make_gw, parking_config  # noqa: F401  (fixtures)

STOP_46 = "2c6cb08"
M = timedelta(minutes=1)
WEEK = 7 * 24 * 60
CARD, NEW = "0000000001", "0000000002"
# Another card whose masked number (******0001) the audit trail cannot tell from CARD's.
LOOK_ALIKE = "9990000001"

# The start of every story: run under stop 46 (OLD) or on this version (`gw` given).
_HELPERS = """
from datetime import timedelta
from gateway.core import Presented
from gateway.store.registry import add_card, delete_credential, delete_resident, set_blocked
from tests.parking.conftest import T0
M = timedelta(minutes=1)
def at(lane, card, minutes):
    return gw.handle(Presented(lane, "card", card, 1.0, T0 + minutes * M, lane + "-reader"))
def card_id(card):
    row = gw.conn.execute("SELECT id FROM credentials WHERE kind = 'card' AND value = ?", (card,)).fetchone()
    return row[0]
"""
_OLD_START = """
from pathlib import Path
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import parking_config, seed
cfg = parking_config(Path(site) / "data", extra=door_out)
seed(cfg, Path(site))
gw = Gateway(cfg)
"""
_OLD_END = """
remembered = gw.conn.execute("SELECT count(*) FROM struck_off_on_foot").fetchone()[0]
gw.conn.close()
result = {"came": came, "remembered": remembered}
"""

# 张三 walks in on his card at 09:00. At 10:00 he reports it lost and the guard blocks it; at 10:10
# the office strikes it off. At 11:00 he finds it and the office issues it to him again (a card
# row of its own, not blocked). He stays at home; at 12:00 he moves out and is deleted, at home.
FOUND_AGAIN = """
add_card(gw.conn, T0 - M, "admin", card, 1, None, None, None, "")
came = at("door", card, 0).admitted
set_blocked(gw.conn, T0 + 60 * M, "guard1", ("card", card), True, "挂失")
delete_credential(gw.conn, T0 + 70 * M, "admin", card_id(card))
add_card(gw.conn, T0 + 120 * M, "admin", card, 1, None, None, None, "")
delete_resident(gw.conn, T0 + 180 * M, "admin", 1)
"""

# 张三 walks in on his card at 09:00 (true time). The power fails at 09:20; the Pi boots at 09:40
# on fake-hwclock's saved time, 08:45. He reports his card lost at 09:45 true time, which the box
# reads 08:50: the guard's block is dated 08:50, before his 09:00 entry. NTP sets the clock; at
# 10:10 the office strikes the card off and issues a new one, he walks out on it at 11:00 and a
# week later he moves out and is deleted.
BLOCKED_ON_STALE_CLOCK = """
add_card(gw.conn, T0 - 600 * M, "admin", card, 1, None, None, None, "")
came = at("door", card, 0).admitted
set_blocked(gw.conn, T0 - 10 * M, "guard1", ("card", card), True, "挂失")  # the stale clock's 08:50
delete_credential(gw.conn, T0 + 70 * M, "admin", card_id(card))
add_card(gw.conn, T0 + 70 * M, "admin", new, 1, None, None, None, "")
left = at("door-out", new, 120).admitted
delete_resident(gw.conn, T0 + week * M, "admin", 1)
"""

# 张三's card struck off (not blocked) and he is deleted while at home; then 李四 is issued a card
# ending in the same four digits, which she loses and the guard blocks.
LOOK_ALIKE_BLOCKED_SINCE = """
add_card(gw.conn, T0 - M, "admin", card, 1, None, None, None, "")
came = at("door", card, 0).admitted
delete_resident(gw.conn, T0 + 60 * M, "admin", 1)
add_card(gw.conn, T0 + 120 * M, "admin", look_alike, 2, None, None, None, "")
set_blocked(gw.conn, T0 + 180 * M, "guard1", ("card", look_alike), True, "挂失")
"""


@pytest.fixture(scope="module")
def stop_46(tmp_path_factory: pytest.TempPathFactory) -> OldRelease:
    return old_release(tmp_path_factory, STOP_46)


def _tap(gw: Gateway, card: str, minutes: int) -> AccessEvent:
    return gw.handle(Presented("door-out", "card", card, 1.0, T0 + minutes * M, "door-out-reader"))


def _fresh(make: Callable[..., Gateway], story: str, **values: object) -> Gateway:
    """The story on a box that ran this version all along."""
    gw = make(extra=DOOR_OUT_WITH_LOCK)
    exec(_HELPERS + story, {"gw": gw, **values})
    return gw


def _upgraded(stop_46: OldRelease, site: Path, story: str, **values: object) -> Gateway:
    """The story under stop 46, then the upgrade to this version (migration 47)."""
    site.mkdir()
    script = _OLD_START + _HELPERS + story + _OLD_END
    got = stop_46.run(script, site=str(site), door_out=DOOR_OUT_WITH_LOCK, **values)
    assert got == {"came": True, "remembered": 1}, got
    return Gateway(parking_config(site / "data", extra=DOOR_OUT_WITH_LOCK))


def test_a_lost_card_found_and_issued_again_still_lets_its_owner_out_after_the_upgrade(
    stop_46: OldRelease,
    make_gw: Callable[..., Gateway],  # noqa: F811
    tmp_path: Path,
) -> None:
    """Issued again after its block, the card was not blocked when struck off with 张三, at home:
    the exit door lets him out, on a box upgraded from stop 46 as on one that ran this version."""
    on_fresh = _tap(_fresh(make_gw, FOUND_AGAIN, card=CARD), CARD, 200)
    assert (on_fresh.admitted, on_fresh.holder_id) == (True, 1), on_fresh
    gw = _upgraded(stop_46, tmp_path / "upgraded", FOUND_AGAIN, card=CARD)
    try:
        upgraded = _tap(gw, CARD, 200)
    finally:
        gw.conn.close()
    assert (upgraded.admitted, upgraded.holder_id) == (True, 1), (
        f"upgraded from stop 46, 张三 (deleted at home) tapping his re-issued card at the exit door is "
        f"refused {upgraded.reason}: migration 47 took the block its re-issue lifted for one in force"
    )


def test_a_card_blocked_on_the_stale_boot_clock_stays_shut_after_the_upgrade(
    stop_46: OldRelease,
    make_gw: Callable[..., Gateway],  # noqa: F811
    tmp_path: Path,
) -> None:
    """Whoever found 张三's lost card taps it at the exit door after he moved out: it stays shut, on
    a box upgraded from stop 46 as on one that ran this version, though the block is dated before
    his last entry on the card."""
    values: dict[str, Any] = {"card": CARD, "new": NEW, "week": WEEK}
    assert not _tap(_fresh(make_gw, BLOCKED_ON_STALE_CLOCK, **values), CARD, WEEK + 30).admitted
    gw = _upgraded(stop_46, tmp_path / "upgraded", BLOCKED_ON_STALE_CLOCK, **values)
    try:
        found = _tap(gw, CARD, WEEK + 30)
    finally:
        gw.conn.close()
    assert not found.admitted, (
        f"upgraded from stop 46, the lost card blocked on the stale boot clock opened the exit door "
        f"once its owner was deleted: {found.reason} as {found.holder_kind} {found.holder_id}"
    )


def test_a_look_alike_card_blocked_after_the_strike_off_forgets_nothing(
    stop_46: OldRelease, tmp_path: Path
) -> None:
    """The audit trail masks both cards alike (******0001); 李四's block, after 张三's card was
    struck off with him, is not his card's: it still lets him out."""
    gw = _upgraded(stop_46, tmp_path / "upgraded", LOOK_ALIKE_BLOCKED_SINCE, card=CARD, look_alike=LOOK_ALIKE)
    try:
        leaving = _tap(gw, CARD, 240)
    finally:
        gw.conn.close()
    assert (leaving.admitted, leaving.holder_id) == (True, 1), leaving


# Under stop 46, the link to the centre down: the centre had sent visitor pass P77 down earlier;
# its visitor reports her printed QR lost and the guard blocks it (禁用); 李四 (R2) reports her
# card lost and the guard blocks it; 王五 (R3) reports his lost and the guard blocks it, and the
# office strikes it off. The block records wait in the outbox.
QR = "VQR-P77-2b9e41c07d3a"
QUEUED_BLOCKS = """
from datetime import timedelta
from pathlib import Path
from gateway.runtime.gateway import Gateway
from gateway.store.registry import add_card, delete_credential, set_blocked
from tests.parking.conftest import T0, parking_config, seed
from tests.parking.directory_exit_helpers import delta
H = timedelta(hours=1)
cfg = parking_config(Path(site) / "data")
seed(cfg, Path(site))
gw = Gateway(cfg)
pushed = {
    "kind": "pass", "ref": "P77", "pass_kind": "visitor", "name": "李四",
    "host_building": "3栋", "host_unit": "2单元",
    "valid_from": T0.isoformat(), "valid_to": (T0 + 12 * H).isoformat(),
    "credentials": [{"kind": "qr", "value": qr}],
}
delta(gw, 1, 0, T0, upsert=[pushed])
add_card(gw.conn, T0, "admin", "0000000002", 2, None, None, None, "")
gone = add_card(gw.conn, T0, "admin", "0000000003", 3, None, None, None, "")
set_blocked(gw.conn, T0 + H, "guard1", ("qr", qr), True, "访客二维码丢失")
set_blocked(gw.conn, T0 + H, "guard1", ("card", "0000000002"), True, "挂失")
set_blocked(gw.conn, T0 + H, "guard1", ("card", "0000000003"), True, "挂失")
delete_credential(gw.conn, T0 + 2 * H, "admin", gone)
gw.conn.close()
"""


def _waiting_blocks(gw: Gateway) -> list[dict[str, Any]]:
    rows = gw.conn.execute(
        "SELECT payload FROM outbox WHERE topic = 'registry' AND sent_at IS NULL ORDER BY seq"
    ).fetchall()
    return [r for r in (json.loads(p) for (p,) in rows) if r.get("op") == "block"]


def test_block_records_queued_before_the_upgrade_name_the_holder_as_the_centre_knows_it(
    stop_46: OldRelease, tmp_path: Path
) -> None:
    """Queued by stop 46 naming only the gateway's row ids, the blocks of central pass P77's lost
    QR and of 李四's card go up after the upgrade as this version writes them: `pass_ref` P77, and
    `resident` R2, the other null. 王五's card, struck off since, names no holder the upgrade can
    find: it goes up as it was queued."""
    stop_46.run(QUEUED_BLOCKS, site=str(tmp_path), qr=QR)
    gw = Gateway(parking_config(tmp_path / "data"))  # the upgrade to schema 47, link still down
    try:
        blocks = _waiting_blocks(gw)
    finally:
        gw.conn.close()
    named = [(b["kind"], b.get("value"), b.get("resident", "-"), b.get("pass_ref", "-")) for b in blocks]
    assert named == [
        ("qr", None, None, "P77"),
        ("card", "0000000002", "R2", None),
        ("card", "0000000003", "-", "-"),
    ], blocks
