"""`gateway export-plates --since DATE` with no crop since then says why, not a camera setting."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from drivers.cameras.snapshots import plate_crop_path
from gateway.cli import main
from gateway.core import Presented
from tests.conftest import registered_plates_site


def test_export_plates_since_a_later_date_does_not_blame_the_cameras(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The office exports the crops of the last week (`--since` a date after the site's labelled
    crops): none is that recent, and the command says "no matched or corrected plate event has a
    snapshot: crops are kept for plates the gateway reads from a camera with snapshots = true",
    sending the installer to change camera settings that are right. It should say that no labelled
    crop is that recent (e.g. name --since and the date), not blame the cameras."""
    gw = registered_plates_site(tmp_path, "皖A12345,R1\n")
    try:
        snapshot = "snapshots/2026-11-21/car-0.jpg"
        crop = plate_crop_path(gw.data_dir / snapshot)
        crop.parent.mkdir(parents=True, exist_ok=True)
        crop.write_bytes(b"a plate crop")
        gw.handle(Presented("car-in", "plate", "皖A12345", 0.9, gw.now(), "cam", snapshot))
        tomorrow = (gw.now().astimezone(gw.site.tz) + timedelta(days=1)).date().isoformat()
    finally:
        gw.conn.close()
    site = str(tmp_path / "site.toml")
    # Without --since the crop is there: the cameras keep snapshots.
    assert main(["export-plates", "-c", site, str(tmp_path / "all")]) == 0
    assert "exported 1 plate crops" in capsys.readouterr().out
    assert main(["export-plates", "-c", site, str(tmp_path / "recent"), "--since", tomorrow]) == 0
    out = capsys.readouterr().out
    assert "snapshots = true" not in out, out
    assert f"no matched or corrected plate event since {tomorrow} has a crop" in out, out
    assert "give an earlier --since" in out, out
