"""An older release of the gateway, taken from the repository's history, run in a process of its
own on a data directory that this code then upgrades (the tests named test_upgrade_fix45_* and
test_upgrade_fix46_*).

The older tree is `git archive`d once per test session under pytest's base temporary folder, and
run with this project's interpreter (its packages are the same), its own folder first on the path.
A checkout with no history (a source tarball) cannot make it: those tests are skipped, saying so."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import tarfile
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
# The release of two sessions ago (schema version 35).
TWO_RELEASES_AGO = "e7a463d"
# The release before the last session's (schema version 37).
PREVIOUS_RELEASE = "da79715"
# The last session's release (schema version 44).
LAST_RELEASE = "8a3aa59"
_RESULT = "@@RESULT@@"


@dataclass(frozen=True)
class OldRelease:
    tree: Path

    def run(self, code: str, **values: object) -> Any:
        """Run `code` under the old release; `values` are its globals (through JSON), and what it
        assigns to `result` comes back (through JSON)."""
        prelude = "import json, sys\nglobals().update(json.loads(sys.argv[1]))\nresult = None\n"
        epilogue = f"\nprint({_RESULT!r} + json.dumps(result, default=str))\n"
        script = prelude + textwrap.dedent(code) + epilogue
        proc = subprocess.run(
            [sys.executable, "-c", script, json.dumps(values, default=str)],
            cwd=self.tree,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"the old release failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}")
        line = [ln for ln in proc.stdout.splitlines() if ln.startswith(_RESULT)][-1]
        return json.loads(line[len(_RESULT) :])


def go_back(data: Path, version: int) -> None:
    """The README's way back to the version that ran before an upgrade from schema `version` (the
    service stopped, the old version installed): gateway.db and its -wal and -shm moved aside, the
    copies the upgrade made put back (boot-alarms.json's, or none: deleted), outbox-stream.json
    left beside them."""
    aside = data.parent / "aside"
    aside.mkdir(exist_ok=True)
    for name in ("gateway.db", "gateway.db-wal", "gateway.db-shm"):
        if (data / name).exists():
            shutil.move(data / name, aside / name)
    shutil.copy(data / f"gateway.db.v{version}.bak", data / "gateway.db")
    marker = data / f"boot-alarms.json.v{version}.bak"
    if marker.exists():
        shutil.copy(marker, data / "boot-alarms.json")
    else:
        (data / "boot-alarms.json").unlink(missing_ok=True)


def old_release(tmp_path_factory: pytest.TempPathFactory, commit: str = TWO_RELEASES_AGO) -> OldRelease:
    """The tree of `commit`, extracted once per session (skipped where the history is not here)."""
    tree = tmp_path_factory.getbasetemp() / f"release-{commit}"
    if not (tree / "gateway").is_dir():
        _extract(commit, tree)
    return OldRelease(tree)


def _extract(commit: str, tree: Path) -> None:
    if not (REPO / ".git").exists() or shutil.which("git") is None:
        pytest.skip(f"upgrading from {commit} needs the repository's history (a git clone) and git")
    proc = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", commit], capture_output=True, timeout=120
    )
    if proc.returncode != 0:
        pytest.skip(
            f"upgrading from {commit} needs that commit in the clone (a shallow clone lacks it: "
            f"git fetch --unshallow): {proc.stderr.decode(errors='replace').strip()}"
        )
    part = tree.with_name(tree.name + ".part")
    shutil.rmtree(part, ignore_errors=True)
    with tarfile.open(fileobj=io.BytesIO(proc.stdout)) as archive:
        archive.extractall(part, filter="data")
    part.rename(tree)


# A script for OldRelease.run: the Pi boots at the true Monday 09:00 (T0) saying Friday 09:00 (STALE),
# under the old release's operations with a steady monotonic clock (`steady`, `o`), two minutes in.
# The scripts of tests/test_upgrade_fix46c_*.py go on from it.
STALE_BOOT_UNDER_OLD = """
from datetime import timedelta
from pathlib import Path
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, parking_config, seed, show
from tests.parking.test_operations import Steady, a_new_boot, ops
M = timedelta(minutes=1)
STALE = T0 - timedelta(days=3)
cfg = parking_config(Path(site) / "data")
seed(cfg, Path(site))
gw = Gateway(cfg)
a_new_boot(gw)
steady = Steady()
o = ops(gw, started=STALE, steady=steady)
o.tick(STALE)
steady.s = 2 * 60
"""
