"""`gateway demo` on a gateway installed as the README says (`pip install '/opt/estate-gateway[fast]'`):
only the packages and the package data pyproject names reach site-packages, not config/ or data/."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from setuptools import find_namespace_packages

from gateway.bench.common import free_port
from gateway.config import load_config

REPO = Path(__file__).resolve().parent.parent


def install(site: Path) -> None:
    """What setuptools puts in site-packages: the found packages' modules and their package data."""
    setuptools = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    include = setuptools["packages"]["find"]["include"]
    for package in find_namespace_packages(str(REPO), include=include):
        folder = package.replace(".", "/")
        (site / folder).mkdir(parents=True, exist_ok=True)
        for module in (REPO / folder).glob("*.py"):
            shutil.copy2(module, site / folder / module.name)
    for package, patterns in setuptools["package-data"].items():
        for pattern in patterns:
            for data in (REPO / package).glob(pattern):
                if data.is_file():
                    target = site / package / data.relative_to(REPO / package)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(data, target)


def demo(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", "demo", "--port", str(free_port()), "--stop-after", "1", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_gateway_demo_runs_from_an_installed_package(tmp_path: Path) -> None:
    """It used to exit 78: ".../site-packages/config/demo.toml: the file does not exist"."""
    site, home, elsewhere = tmp_path / "site-packages", tmp_path / "home", tmp_path / "cwd"
    install(site)
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site), "HOME": str(home), "XDG_DATA_HOME": ""}
    done = demo([], elsewhere, env)
    assert done.returncode == 0, done.stdout[-400:] + done.stderr[-800:]
    which = [sys.executable, "-c", "import gateway; print(gateway.__file__)"]
    ran = subprocess.run(which, cwd=elsewhere, env=env, capture_output=True, text=True, check=True)
    assert ran.stdout.startswith(str(site)), ran.stdout  # the installed copy, not the checkout
    # Installed, the demo keeps its data in the user's data folder, never in site-packages or the cwd.
    data = home / ".local" / "share" / "estate-gateway" / "demo"
    assert (data / "gateway.db").is_file() and not list(elsewhere.iterdir())
    again = demo([], elsewhere, env)
    assert again.returncode == 0, again.stderr[-800:]
    hint = next(line for line in again.stdout.splitlines() if "gateway user add" in line)
    words = shlex.split(hint[hint.index("gateway user add") :])
    assert load_config(words[words.index("-c") + 1]).site.data_dir == data.resolve()
    own = demo(["--data-dir", str(tmp_path / "mine")], elsewhere, env)
    assert own.returncode == 0, own.stderr[-800:]
    assert load_config(tmp_path / "mine" / "demo.toml").site.data_dir == (tmp_path / "mine").resolve()


def test_the_demo_of_a_source_checkout_keeps_its_data_in_data_demo() -> None:
    """README: `./scripts/demo` runs the demo site of the checkout, its database in data/demo."""
    from gateway.demo.run import default_data_dir

    assert default_data_dir() == REPO / "data" / "demo"
