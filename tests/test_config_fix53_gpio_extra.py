"""README's install left out the `gpio` extra while the example config it copies has a gpio relay,
and check-config said ok with gpiozero missing: the relay then started offline and never pulsed.
check-config warns of gpio devices on a box without gpiozero (a warning: a box without GPIO
devices needs no gpiozero), and the README's install line has the extra."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "config" / "example-estate.toml"


def _check_config(path: Path, gpiozero: bool) -> subprocess.CompletedProcess[str]:
    # With gpiozero, a pin library for it too (lgpio from apt, review 61f), looked up and not loaded.
    lgpio = "import importlib.machinery, types\nsys.modules['lgpio'] = types.ModuleType('lgpio')\n"
    lgpio += "sys.modules['lgpio'].__spec__ = importlib.machinery.ModuleSpec('lgpio', None)\n"
    hide = lgpio if gpiozero else "sys.modules['gpiozero'] = None  # as in a venv without the gpio extra\n"
    code = (
        f"import sys\n{hide}from gateway.cli import main\nsys.exit(main(['check-config', {str(path)!r}]))\n"
    )
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)


def test_check_config_warns_of_a_gpio_relay_without_gpiozero() -> None:
    done = _check_config(EXAMPLE, gpiozero=False)
    assert done.returncode == 0, done.stderr
    assert ": ok (" in done.stdout
    assert (
        "  warning: devices: south-in-barrier (driver gpio) need gpiozero, which is not installed here"
        in done.stdout
    )
    assert "sudo /opt/estate-gateway/venv/bin/pip install '/opt/estate-gateway[fast,gpio]'" in done.stdout


def test_no_gpio_warning_with_gpiozero_or_without_gpio_devices(tmp_path: Path) -> None:
    assert "gpiozero" not in _check_config(EXAMPLE, gpiozero=True).stdout
    no_gpio = tmp_path / "site.toml"
    text = EXAMPLE.read_text(encoding="utf-8")
    start = text.index("# South car entrance: barrier relay and loop detector on the Raspberry Pi")
    no_gpio.write_text(text[:start] + text[text.index("[mqtt]") :], encoding="utf-8")
    done = _check_config(no_gpio, gpiozero=False)
    assert ": ok (" in done.stdout and "gpiozero" not in done.stdout


def test_the_readme_install_has_every_extra_the_example_config_needs() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    install = next(
        line for line in readme.splitlines() if "venv/bin/pip install '/opt/estate-gateway[" in line
    )
    extras = install.split("[", 1)[1].split("]", 1)[0].split(",")
    devices = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))["devices"]
    assert any(d["driver"] == "gpio" for d in devices)
    assert "gpio" in extras and "fast" in extras
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert set(extras) <= set(pyproject["project"]["optional-dependencies"])
