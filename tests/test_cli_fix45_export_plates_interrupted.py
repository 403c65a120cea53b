"""`gateway export-plates` stopped with Ctrl-C part way: no plate crop is left without its audit row."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import pytest

from drivers.cameras.snapshots import plate_crop_path
from gateway.cli import main
from gateway.core import Presented
from gateway.store.database import open_database
from tests.conftest import registered_plates_site

PLATES = ["皖A12345", "皖A23456", "皖A34567"]


def test_a_plate_export_stopped_with_ctrl_c_leaves_no_unaudited_crops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The office runs `gateway export-plates -c site.toml /media/usb/crops` and presses Ctrl-C
    while the crops are copied (it takes long on a big site). The command exits 130, and the
    stick keeps labels.csv and the crops copied so far (residents' plates and cars), with no
    plates.export audit row: a copy left the box with no record of who took it. As `gateway export`
    does, what was copied should be removed when the export does not finish (or audited)."""
    _site_with_crops(tmp_path)
    real_copy = shutil.copyfile
    copied: list[str] = []

    def copy_then_ctrl_c(src: object, dst: object, *a: object, **k: object) -> object:
        if copied:  # the office presses Ctrl-C as the second crop is copied
            raise KeyboardInterrupt
        copied.append(str(dst))
        return real_copy(src, dst, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(shutil, "copyfile", copy_then_ctrl_c)
    out = tmp_path / "usb" / "crops"
    rc = main(["export-plates", "-c", str(tmp_path / "site.toml"), str(out)])
    monkeypatch.undo()

    assert rc == 130
    audited, left = _audited(tmp_path), _left(out)
    assert audited or not left, f"left in {out} with no plates.export audit row: {left}"
    assert not out.exists()  # the folder it made too


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGTERM], ids=["SIGHUP", "SIGTERM"])
def test_a_plate_export_cut_off_by_a_hangup_leaves_no_crops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], sig: signal.Signals
) -> None:
    """The office's SSH session drops while the crops are copied (SIGHUP; `timeout` sends
    SIGTERM): as `gateway export`, the signal ends it as an error that takes out what it wrote,
    where its default action ended the process at once and left the crops on the stick."""
    _site_with_crops(tmp_path)
    real_copy = shutil.copyfile
    copied: list[str] = []

    def copy_then_hang_up(src: object, dst: object, *a: object, **k: object) -> object:
        if copied:
            os.kill(os.getpid(), sig)
        copied.append(str(dst))
        return real_copy(src, dst, *a, **k)  # type: ignore[arg-type]

    def killed(signum: int, _frame: object) -> None:  # stands for the default action: the process ends
        raise ProcessKilled(signal.Signals(signum).name)

    monkeypatch.setattr(shutil, "copyfile", copy_then_hang_up)
    out = tmp_path / "usb" / "crops"
    before = signal.signal(sig, killed)
    try:
        rc = main(["export-plates", "-c", str(tmp_path / "site.toml"), str(out)])
        assert signal.getsignal(sig) is killed  # the export's own handler is gone with it
    except ProcessKilled:
        rc = -sig  # the export never took the signal: the process ended where it was
    finally:
        signal.signal(sig, before)
        monkeypatch.undo()

    assert not _audited(tmp_path) and not out.exists(), f"left with no audit row: {_left(out)}"
    assert rc == 1
    assert f"the export was stopped ({sig.name}); no file was left" in capsys.readouterr().err


class ProcessKilled(BaseException):
    pass


def _site_with_crops(tmp_path: Path) -> None:
    gw = registered_plates_site(tmp_path, "".join(f"{p},R1\n" for p in PLATES))
    try:
        for n, plate in enumerate(PLATES):
            snapshot = f"snapshots/2026-11-21/car-{n}.jpg"
            crop = plate_crop_path(gw.data_dir / snapshot)
            crop.parent.mkdir(parents=True, exist_ok=True)
            crop.write_bytes(b"a plate crop %d" % n)
            gw.handle(Presented("car-in", "plate", plate, 0.9, gw.now(), "cam", snapshot))
    finally:
        gw.conn.close()


def _audited(tmp_path: Path) -> int:
    conn = open_database(tmp_path / "data" / "gateway.db").conn
    try:
        return int(conn.execute("SELECT count(*) FROM audit WHERE action = 'plates.export'").fetchone()[0])
    finally:
        conn.close()


def _left(out: Path) -> list[str]:
    return sorted(p.name for p in out.rglob("*") if p.is_file()) if out.exists() else []
