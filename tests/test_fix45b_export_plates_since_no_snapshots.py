"""`gateway export-plates --since DATE` on a site where no labelled event of any date has a crop."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from drivers.cameras.snapshots import plate_crop_path
from gateway.cli import main
from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from tests.conftest import registered_plates_site


def _last_week(gw: Gateway) -> str:
    return (gw.now().astimezone(gw.site.tz) - timedelta(days=7)).date().isoformat()


def test_export_plates_since_on_a_site_with_no_crop_at_all_names_the_cameras(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The site's cameras keep no snapshots (snapshots = false): no plate event has a crop, ever.
    The office ran `export-plates --since` last week and was told "give an earlier --since, or
    leave it out to export every crop kept"; left out, it exports nothing either. Before f94aaf1 it
    was told the cause (crops are kept only from cameras with snapshots = true); it is again, as no
    crop of any date is there to find with an earlier date."""
    gw = registered_plates_site(tmp_path, "皖A12345,R1\n")
    try:
        gw.handle(Presented("car-in", "plate", "皖A12345", 0.9, gw.now(), "cam"))  # no snapshot
        last_week = _last_week(gw)
    finally:
        gw.conn.close()
    site = str(tmp_path / "site.toml")
    assert main(["export-plates", "-c", site, str(tmp_path / "all")]) == 0
    assert "snapshots = true" in capsys.readouterr().out  # without --since: the cause is named
    assert main(["export-plates", "-c", site, str(tmp_path / "week"), "--since", last_week]) == 0
    out = capsys.readouterr().out
    assert "snapshots = true" in out, f"with --since {last_week}, the cameras' setting is not named: {out}"
    assert "earlier --since" not in out, out


def test_export_plates_since_names_an_earlier_date_only_where_an_older_crop_is_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A labelled event before --since whose crop retention took: an earlier --since would export
    no crop either, so it is not offered; once one older crop is kept, it is."""
    gw = registered_plates_site(tmp_path, "皖A12345,R1\n")
    try:
        crops = []
        for n, days_ago in enumerate((30, 20)):
            snapshot = f"snapshots/old/car-{n}.jpg"
            crops.append(plate_crop_path(gw.data_dir / snapshot))
            at = gw.now() - timedelta(days=days_ago)
            gw.handle(Presented("car-in", "plate", "皖A12345", 0.9, at, "cam", snapshot))
        last_week = _last_week(gw)
    finally:
        gw.conn.close()
    site = str(tmp_path / "site.toml")
    assert main(["export-plates", "-c", site, str(tmp_path / "pruned"), "--since", last_week]) == 0
    out = capsys.readouterr().out
    assert "earlier --since" not in out and "snapshots = true" in out, out
    crops[0].parent.mkdir(parents=True, exist_ok=True)
    crops[0].write_bytes(b"a plate crop")
    assert main(["export-plates", "-c", site, str(tmp_path / "kept"), "--since", last_week]) == 0
    out = capsys.readouterr().out
    assert f"since {last_week} has a crop: give an earlier --since" in out, out
    assert "snapshots = true" not in out, out
