"""Snapshots the gateway cannot delete free no room.

docs/hardware.md names the case: a snapshots folder (or a day's) left to root by a `sudo gateway
run`. The disk guard counted the room of every snapshot it *chose* as freed, whether its delete
worked or not: with the disk 3 % free and nothing deleted it raised no disk_low, cleared an open one
(the centre was told 'cleared' while the disk filled) and judged how many days of footage were kept
by deletions that never happened. The room is now judged by what was deleted; the delete that fails
is said once in the journal with the fix, not once per file every 30 s.

The root-owned folder is simulated at the hardware edge (the OS's delete refused in one folder), so
the test runs in any container; a second variant uses `chattr +i` where the kernel allows it.
"""

from __future__ import annotations

import errno
import logging
import os
import subprocess
from collections import Counter, namedtuple
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest

from gateway.alarm_texts import from_stored
from gateway.parking import retention as plan
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0
from tests.parking.test_operations import ops

Usage = namedtuple("Usage", "total used free")
FULL = Usage(100_000, 97_000, 3_000)  # 3 % free: below alarm_free_percent (10)


def day_of_snapshots(gw: Gateway, day: str, count: int, age: timedelta, size: int = 20_000) -> list[Path]:
    folder = gw.data_dir / "snapshots" / day
    folder.mkdir(parents=True)
    shots = []
    for i in range(count):
        shot = folder / f"0800{i:02d}-000000-cam-{i}.jpg"
        shot.write_bytes(b"\xff" * size)
        os.utime(shot, ((T0 - age).timestamp() + i,) * 2)
        shots.append(shot)
    return shots


@pytest.fixture
def roots_folder(monkeypatch: pytest.MonkeyPatch) -> Iterator[set[Path]]:
    """Folders whose files the gateway's user may not delete (root's, left by `sudo gateway run`)."""
    refused: set[Path] = set()
    unlink = Path.unlink

    def refusing_unlink(self: Path, missing_ok: bool = False) -> None:
        if self.parent in refused:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", refusing_unlink)
    yield refused


def disk_low(gw: Gateway) -> list[str]:
    return [
        state
        for (state,) in gw.conn.execute(
            "SELECT json_extract(payload, '$.state') FROM outbox WHERE topic = 'alarm' "
            "AND json_extract(payload, '$.kind') = 'disk_low' ORDER BY seq"
        )
    ]


def test_a_full_disk_of_undeletable_snapshots_raises_disk_low(gw: Gateway, roots_folder: set[Path]) -> None:
    """3 % free and every snapshot in a root-owned folder: nothing is deleted, so nothing is freed."""
    shots = day_of_snapshots(gw, "2025-03-01", 5, timedelta(days=2))
    roots_folder.add(shots[0].parent)
    result = ops(gw).disk_guard(T0, lambda _: FULL)
    assert all(p.exists() for p in shots)
    assert result.delete == () and result.free_after == FULL.free and result.alarm
    assert disk_low(gw) == ["raised"]
    retention_short = "SELECT count(*) FROM alarms WHERE kind = 'retention_short'"
    assert gw.conn.execute(retention_short).fetchone()[0] == 0  # no footage was lost


def test_an_open_disk_low_stays_open_while_no_snapshot_can_be_deleted(
    gw: Gateway, roots_folder: set[Path]
) -> None:
    guard = ops(gw)
    assert guard.disk_guard(T0, lambda _: FULL).alarm  # no snapshots yet: disk_low raised
    shots = day_of_snapshots(gw, "2025-03-03", 5, timedelta(hours=1))
    roots_folder.add(shots[0].parent)
    guard.disk_guard(T0 + timedelta(seconds=30), lambda _: FULL)  # still 3 % free
    assert disk_low(gw) == ["raised"]  # the centre is not told 'cleared'


def test_newer_snapshots_go_in_place_of_the_undeletable_oldest_ones(
    gw: Gateway, roots_folder: set[Path]
) -> None:
    """The oldest day is root's; the next day's snapshots make the room, and the footage kept is
    judged by those deleted (days_kept back to the newest one really gone)."""
    old = day_of_snapshots(gw, "2025-02-25", 5, timedelta(days=6))
    newer = day_of_snapshots(gw, "2025-03-01", 5, timedelta(days=2))
    roots_folder.add(old[0].parent)
    usage = Usage(100_000, 86_000, 14_000)  # 14 % free; prune to 15 %: one snapshot of 20 kB does
    result = ops(gw).disk_guard(T0, lambda _: usage)
    assert result.delete == (newer[0],) and not result.alarm
    assert all(p.exists() for p in old) and [p.exists() for p in newer] == [False] + [True] * 4
    (message,) = gw.conn.execute("SELECT message FROM alarms WHERE kind = 'retention_short'").fetchone()
    said = from_stored(message)
    kept = said.params["kept_days"] if said is not None else None
    assert isinstance(kept, int | float) and round(kept) == 2  # not 6: that day stayed


def test_the_undeletable_folder_is_said_once_with_the_fix(
    gw: Gateway, roots_folder: set[Path], caplog: pytest.LogCaptureFixture
) -> None:
    shots = day_of_snapshots(gw, "2025-03-01", 5, timedelta(days=2))
    roots_folder.add(shots[0].parent)
    guard = ops(gw)
    with caplog.at_level(logging.WARNING, logger="gateway.parking.operations"):
        for look in range(4):  # two minutes of a disk guard looking every 30 s
            guard.disk_guard(T0 + look * timedelta(seconds=30), lambda _: FULL)
    said = [r.getMessage() for r in caplog.records if "cannot be deleted" in r.getMessage()]
    assert len(said) == 1, said
    assert f"sudo chown estate-gateway:estate-gateway {shots[0].parent}" in said[0]
    assert "Permission denied" in said[0]


def _chattr(flag: str, paths: list[Path]) -> bool:
    done = subprocess.run(["chattr", flag, *map(str, paths)], capture_output=True, check=False)
    return done.returncode == 0


def test_immutable_snapshots_raise_disk_low_too(gw: Gateway) -> None:
    """The same, with the kernel refusing the deletes (`chattr +i`: needs root and
    CAP_LINUX_IMMUTABLE, which a container may not have; the variants above always run)."""
    shots = day_of_snapshots(gw, "2025-03-01", 5, timedelta(days=2))
    try:
        if not _chattr("+i", shots):
            pytest.skip("chattr +i is not allowed here (not root, or no CAP_LINUX_IMMUTABLE)")
        result = ops(gw).disk_guard(T0, lambda _: FULL)
        assert all(p.exists() for p in shots)
        assert result.alarm and disk_low(gw) == ["raised"]
    finally:
        _chattr("-i", shots)


@dataclass(frozen=True, slots=True)
class ReadInfo(plan.FileInfo):
    """A listed snapshot that counts how often the guard reads its time (in `reads`)."""

    reads: list[int] = field(default_factory=list)

    def __getattribute__(self, name: str) -> object:
        if name == "mtime":
            object.__getattribute__(self, "reads").append(1)
        return object.__getattribute__(self, name)


def test_a_folder_of_undeletable_snapshots_is_walked_once_per_look(
    gw: Gateway, roots_folder: set[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk a few bytes short of prune_free_percent and a root-owned day of snapshots: 3f0d998
    planned again after every snapshot that stayed, and each plan sorted every snapshot left, so one
    look over the n files read their times n*n/2 times (8,000 snapshots, two or three days of a busy
    car park: ten seconds a look, every 30 s, on the thread that also raises the alarms). A look
    now lists and orders them once and tries each, oldest first, at most once; all stay, and the
    room is judged by what was deleted: none."""
    n = 300
    shots = day_of_snapshots(gw, "2025-03-01", n, timedelta(days=2), size=100)  # each frees 100 bytes
    roots_folder.add(shots[0].parent)
    reads: list[int] = []
    listing = plan.snapshot_files
    monkeypatch.setattr(
        plan,
        "snapshot_files",
        lambda root: [ReadInfo(f.path, f.mtime, f.size, reads) for f in listing(root)],
    )
    tried: Counter[Path] = Counter()
    refusing = Path.unlink

    def counting_unlink(self: Path, missing_ok: bool = False) -> None:
        tried[self] += 1
        refusing(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", counting_unlink)
    total = 100_000_000
    just_under = Usage(total, 0, int(total * 0.15) - 50)  # 50 bytes short of prune_free_percent 15
    result = ops(gw).disk_guard(T0, lambda _: just_under)
    assert sorted(tried) == sorted(shots) and set(tried.values()) == {1}  # each tried, once
    assert result.delete == () and result.free_after == just_under.free  # nothing freed
    assert all(p.exists() for p in shots)
    assert len(reads) <= 4 * n, f"one look read the {n} snapshots' times {len(reads)} times"
