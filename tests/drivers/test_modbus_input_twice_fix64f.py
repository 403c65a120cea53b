"""Review 64C: a Modbus module's discrete input given twice passed `gateway check-config`, where
the same slip with GPIO pins is refused ("GPIO22 is already used").

An installer types the loop's input again for the barrier contact (`inputs = { car_present = 0,
barrier_closed = 0 }`), or copies the entrance's module block for the exit on the same module and
changes only the coil: the check said ok, and at the start the idle entrance with no car raised
强行开门 (the loop's "no car" read as the barrier's "not down"), or the exit counted the entrance's
cars. An input of one module is now read by one device for one role, as a GPIO pin is."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gateway.config import ConfigError, parse_config
from tests.conftest import site_toml

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = (ROOT / "config" / "example-estate.toml").read_text(encoding="utf-8")

MODULE = """
[[devices]]
id = "{id}"
lane = "{lane}"
kind = "relay"
driver = "modbus"
port = "{port}"
unit = {unit}
coil = {coil}
inputs = {inputs}
"""


def module(id: str, lane: str, unit: int, coil: int, inputs: str, port: str = "/dev/ttyUSB1") -> str:
    return MODULE.format(id=id, lane=lane, port=port, unit=unit, coil=coil, inputs=inputs)


def problems(tmp_path: Path, devices: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(site_toml(tmp_path) + devices, "site.toml")
    return [p.render("site.toml") for p in info.value.problems]


def check_config(tmp_path: Path, old: str, new: str) -> subprocess.CompletedProcess[str]:
    assert old in EXAMPLE
    path = tmp_path / "site.toml"
    path.write_text(EXAMPLE.replace(old, new, 1), encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", "check-config", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )


def test_the_loops_input_typed_again_for_the_barrier_contact_is_refused(tmp_path: Path) -> None:
    devices = module("car-in-module", "car-in", 1, 0, "{ car_present = 0, barrier_closed = 0 }")
    line = (site_toml(tmp_path) + devices).splitlines().index(
        "inputs = { car_present = 0, barrier_closed = 0 }"
    ) + 1
    assert problems(tmp_path, devices) == [
        f"site.toml:{line}: devices[2].inputs.barrier_closed: unit 1 input 0 is already read by device "
        "'car-in-module' (inputs.car_present) (found 0)\n    fix: wire it to a free input of the "
        "module and give that input's number here"
    ]


def test_the_entrances_loop_read_again_by_the_exit_on_the_same_module_is_refused(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        module("east-in", "car-in", 1, 0, "{ car_present = 0, barrier_closed = 1 }")
        + module("east-out", "car-out", 1, 1, "{ car_present = 0 }"),
    )
    assert len(found) == 1
    assert (
        "devices[3].inputs.car_present: unit 1 input 0 is already read by device 'east-in' "
        "(inputs.car_present)" in found[0]
    )


def test_the_same_input_number_on_another_module_or_bus_is_its_own(tmp_path: Path) -> None:
    cfg = parse_config(
        site_toml(tmp_path)
        + module("east-in", "car-in", 1, 0, "{ car_present = 0, barrier_closed = 1 }")
        + module("east-out", "car-out", 2, 0, "{ car_present = 0 }")
        + module("west-in", "car-in", 1, 0, "{ car_present = 0 }", port="/dev/ttyUSB2"),
        "site.toml",
    )
    assert [d.id for d in cfg.devices if d.driver == "modbus"] == ["east-in", "east-out", "west-in"]


def test_check_config_refuses_the_example_with_an_input_given_two_roles(tmp_path: Path) -> None:
    done = check_config(
        tmp_path,
        "inputs = { car_present = 0, barrier_closed = 1 }",
        "inputs = { car_present = 0, barrier_closed = 0 }",
    )
    assert done.returncode == 78, done.stdout + done.stderr
    assert "unit 1 input 0 is already read by device 'east-in-barrier' (inputs.car_present)" in done.stderr


def test_check_config_refuses_the_exit_block_copied_from_the_entrances_module(tmp_path: Path) -> None:
    done = check_config(
        tmp_path,
        "unit = 2\ncoil = 0\ninputs = { car_present = 0 }",
        "unit = 1\ncoil = 1\ninputs = { car_present = 0 }",
    )
    assert done.returncode == 78, done.stdout + done.stderr
    assert "unit 1 input 0 is already read by device 'east-in-barrier' (inputs.car_present)" in done.stderr
