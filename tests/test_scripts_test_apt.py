"""scripts/test on a box whose .venv is already made and whose Debian packages are all there."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _stub_apt(tmp_path: Path, exit_code: int) -> tuple[dict[str, str], Path]:
    """A PATH whose python3 is Debian's without python3-venv (no ensurepip) and whose apt-get and
    sudo only note what they were asked, then exit with `exit_code`."""
    real = shutil.which("python3")
    assert real
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "apt.log"
    (bin_dir / "python3").write_text(
        f'#!/bin/sh\ncase "$*" in *"import ensurepip"*) exit 1;; esac\nexec {real} "$@"\n', encoding="utf-8"
    )
    for tool in ("apt-get", "sudo"):
        (bin_dir / tool).write_text(
            f'#!/bin/sh\necho "{tool} $*" >> {log}\nexit {exit_code}\n', encoding="utf-8"
        )
    for f in bin_dir.iterdir():
        f.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "PYTHON"}
    env.update(PATH=f"{bin_dir}:{os.environ['PATH']}", PYTHONDONTWRITEBYTECODE="1")
    return env, log


def test_scripts_test_with_a_working_venv_does_not_need_apt_for_python3_venv(tmp_path: Path) -> None:
    """A developer's box (or a CI runner) where ./scripts/test worked yesterday: .venv made and
    installed, mosquitto, chromium and the fonts there; its python3 is Debian's, without
    python3-venv (the .venv was made another way, or python3-venv was removed since). Today
    ./scripts/test stops before any test: scripts/system-deps now wants python3-venv, runs
    `sudo apt-get update` (a password prompt, or a failure on a runner without sudo or network),
    and set -e ends it. Nothing needs python3-venv here: .venv has pip, and scripts/setup already
    installs python3-venv itself when it must make .venv. The tests should run."""
    # apt on a runner that may not install (no sudo rights, no network): it says what it was asked.
    env, log = _stub_apt(tmp_path, 100)
    done = subprocess.run(
        [
            str(REPO / "scripts" / "test"),
            "-p",
            "no:cacheprovider",
            "--collect-only",
            "-q",
            "tests/test_csv.py",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    asked = log.read_text() if log.exists() else ""
    assert done.returncode == 0 and "python3-venv" not in asked, (
        f"scripts/test exit {done.returncode}; apt was asked: {asked!r}; {done.stderr[-400:]}"
    )


def test_system_deps_asks_for_python3_venv_only_where_setup_must_make_the_venv(tmp_path: Path) -> None:
    """The same python3 without python3-venv, apt-get that installs: a checkout whose .venv works is
    not given python3-venv; a fresh one (.ci/run: scripts/test runs system-deps before setup) is,
    so that setup can make .venv."""
    env, log = _stub_apt(tmp_path, 0)
    subprocess.run([str(REPO / "scripts" / "system-deps")], cwd=tmp_path, env=env, check=True, timeout=120)
    assert "python3-venv" not in (log.read_text() if log.exists() else "")
    fresh = tmp_path / "fresh"
    (fresh / "scripts").mkdir(parents=True)
    shutil.copy2(REPO / "scripts" / "system-deps", fresh / "scripts" / "system-deps")
    subprocess.run([str(fresh / "scripts" / "system-deps")], cwd=tmp_path, env=env, check=True, timeout=120)
    assert "install" in log.read_text() and "python3-venv" in log.read_text(), log.read_text()
