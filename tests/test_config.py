"""Site config: every shipped file validates; a bad one names every problem with its line and fix."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.config import EX_CONFIG, ConfigError, load_config, parse_config
from gateway.demo.run import SHIPPED_CONFIG
from gateway.store.database import open_database
from gateway.store.outbox import prune_sent
from tests.conftest import site_toml

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"


@pytest.mark.parametrize("path", [*sorted(CONFIG_DIR.glob("*.toml")), SHIPPED_CONFIG], ids=lambda p: p.name)
def test_every_shipped_config_is_valid(path: Path) -> None:
    cfg = load_config(path)
    assert cfg.lanes and cfg.gates


def problems_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "site.toml")
    return [p.render("site.toml") for p in info.value.problems]


def test_all_structural_errors_are_reported_at_once_with_lines(tmp_path: Path) -> None:
    text = (
        site_toml(tmp_path, anti_passback="sometimes")
        .replace('direction = "exit"', 'direction = "exit"\nzoen = "main"')
        .replace("capacity = {", "capacity = { trucks = 3,")
    )
    problems = problems_of(text)
    assert len(problems) == 3
    joined = "\n".join(problems)
    assert "policy.anti_passback" in joined and "'off', 'soft' or 'hard'" in joined
    assert "lanes[1].zoen" in joined and "did you mean 'zone'" in joined
    assert "zones[0].capacity.trucks" in joined
    lines = text.splitlines()
    for problem in problems:
        number = int(problem.split(":")[1])
        key = problem.split(": ")[1].split(".")[-1].split("[")[0]
        assert key in lines[number - 1] or "capacity" in lines[number - 1]


def test_cross_references_are_checked(tmp_path: Path) -> None:
    text = (
        site_toml(tmp_path)
        .replace('zone = "main"', 'zone = "mian"', 1)
        .replace('lane = "door"', 'lane = "dor"')
    )
    problems = "\n".join(problems_of(text))
    assert "no zone has this id (found 'mian')" in problems and "did you mean 'main'" in problems
    assert "no lane has this id (found 'dor')" in problems and "did you mean 'door'" in problems


def test_duplicate_ids_and_vehicle_lane_without_zone(tmp_path: Path) -> None:
    text = (
        site_toml(tmp_path)
        .replace('id = "car-out"', 'id = "car-in"')
        .replace('zone = "main"\n\n[[lanes]]\nid = "car-in"', '\n[[lanes]]\nid = "car-in"')
    )
    problems = "\n".join(problems_of(text))
    assert "id 'car-in' is used twice" in problems
    assert "a vehicle lane needs the zone it leads to" in problems


def test_bad_hours_and_time_zone(tmp_path: Path) -> None:
    text = (
        site_toml(tmp_path)
        .replace('type = "pedestrian"', 'type = "pedestrian"\nhours = ["25:00-07:00"]')
        .replace('name = "测试小区"', 'name = "测试小区"\ntimezone = "Asia/Beijing"')
    )
    problems = "\n".join(problems_of(text))
    assert "25:00 is not a time of day" in problems
    assert "unknown time zone 'Asia/Beijing'" in problems


def test_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    problems = problems_of(site_toml(tmp_path).replace('name = "北门"', "name = 北门"))
    assert "not valid TOML" in problems[0] and "line" in problems[0]


def test_check_config_command_exit_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.toml"
    good.write_text(site_toml(tmp_path / "data"), encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text(site_toml(tmp_path / "data", no_slot="maybe"), encoding="utf-8")
    assert main(["check-config", str(good)]) == 0
    assert "ok (site test-site, 1 gates, 3 lanes" in capsys.readouterr().out
    assert main(["check-config", str(bad)]) == EX_CONFIG
    err = capsys.readouterr().err
    assert "bad.toml:" in err and "policy.no_slot" in err and "fix:" in err
    assert main(["check-config", str(tmp_path / "missing.toml")]) == EX_CONFIG
    assert "the file does not exist" in capsys.readouterr().err


def test_run_with_a_bad_config_exits_78_before_touching_anything(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(site_toml(tmp_path / "data", shared="sometimes"), encoding="utf-8")
    assert main(["run", "-c", str(bad)]) == EX_CONFIG
    assert not (tmp_path / "data").exists()


def test_data_dir_is_relative_to_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "etc" / "site.toml"
    path.parent.mkdir()
    path.write_text(site_toml(Path("state")), encoding="utf-8")
    assert load_config(path).site.data_dir == tmp_path / "etc" / "state"


def test_config_reference_in_docs_is_current() -> None:
    from gateway.config.reference import render

    docs = CONFIG_DIR.parent / "docs" / "config.md"
    assert docs.read_text(encoding="utf-8") == render(), (
        "docs/config.md is out of date: python -m gateway.config.reference > docs/config.md"
    )


@pytest.mark.parametrize(
    ("listen", "says"),
    [("0.0.0.0:8080", "put the port in http.port"), ("http://0.0.0.0", "is a URL"), ("[::]", "no brackets")],
)
def test_http_listen_must_be_an_address(tmp_path: Path, listen: str, says: str) -> None:
    # check-config used to pass these; the service then failed to bind and blamed another program.
    text = site_toml(tmp_path).replace("[http]\n", f'[http]\nlisten = "{listen}"\n')
    problems = "\n".join(problems_of(text))
    assert "http.listen" in problems and says.split()[-1] in problems


def test_an_address_the_box_does_not_have_is_not_blamed_on_another_program() -> None:
    from gateway.errors import GatewayError
    from gateway.runtime.serve import check_port_free

    with pytest.raises(GatewayError) as err:
        check_port_free("192.0.2.77", 18080)  # TEST-NET-1: never this box's address
    assert "another program" not in err.value.fix
    assert "set [http] listen to 0.0.0.0" in err.value.fix


@pytest.mark.parametrize(
    ("days", "says"),
    [("inf", "a finite number"), ("nan", "a finite number"), ("1e12", "less than or equal to 36500")],
)
def test_keep_sent_days_must_be_a_number_of_days_the_gateway_can_count(
    tmp_path: Path, days: str, says: str
) -> None:
    """`keep_sent_days = inf` passed check-config; the gateway then failed in timedelta(days=inf)."""
    text = site_toml(tmp_path) + f"\n[mqtt]\nkeep_sent_days = {days}\n"
    problems = "\n".join(problems_of(text))
    assert "mqtt.keep_sent_days: Input should be " + says in problems, problems


def test_keep_sent_days_of_a_hundred_years_still_means_for_ever(tmp_path: Path) -> None:
    """A config that kept sent records "for ever" (36500 days) worked before the limit came; it
    was then refused at start (exit 78, which systemd does not restart). The prune still works."""
    text = site_toml(tmp_path) + "\n[mqtt]\nkeep_sent_days = 36500\n"
    cfg = parse_config(text, "site.toml")
    db = open_database(tmp_path / "gateway.db")
    try:  # what the link's prune does with it
        assert prune_sent(db.conn, datetime.now(UTC) - timedelta(days=cfg.mqtt.keep_sent_days)) == 0
    finally:
        db.conn.close()


def test_check_config_warns_that_without_a_command_key_every_remote_command_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "site.toml"
    config.write_text(site_toml(Path("data")) + "\n[mqtt]\nenabled = true\n", encoding="utf-8")
    key = tmp_path / "data" / "command.key"
    assert main(["check-config", str(config)]) == 0
    out = capsys.readouterr().out
    assert f"warning: mqtt.command_key_file: no command key at {key}: every remote command" in out, out
    key.parent.mkdir()
    key.write_text("k" * 32)
    key.chmod(0o600)
    assert main(["check-config", str(config)]) == 0
    assert "command key" not in capsys.readouterr().out


def _charging_site(tmp_path: Path, car_rate: str) -> str:
    tariff = f'\n[[parking.tariffs]]\nversion = "t1"\neffective_from = 2025-01-01\n{car_rate}'
    charging = site_toml(tmp_path).replace("[policy]\n", '[policy]\nexit_without_entry = "charge"\n', 1)
    return charging + tariff


def test_charge_for_a_car_without_entry_needs_a_car_rate_but_not_a_daily_cap(tmp_path: Path) -> None:
    """charge asks a day of the car rate: a car tariff without daily_cap_fen charges a 24-hour stay
    (it was refused), while a tariff that does not price cars would make charge free, as open."""
    uncapped = "[parking.tariffs.car]\nperiod_minutes = 60\nperiod_fen = 200\n"
    parse_config(_charging_site(tmp_path, uncapped), "site.toml")
    bicycles_only = "[parking.tariffs.bicycle]\nperiod_minutes = 60\nperiod_fen = 100\n"
    problems = problems_of(_charging_site(tmp_path, bicycles_only))
    assert len(problems) == 1 and "exit_without_entry" in problems[0] and "price cars" in problems[0]


@pytest.mark.parametrize(
    ("table", "setting", "fix"),
    [
        ("retention", "audit_days = 100", "set it to 180 or more"),
        ("reports", "hour = 24", "set it to 23 or less"),
        ("http", "session_hours = 0", "set it to more than 0"),
    ],
)
def test_check_config_gives_the_fix_for_a_number_out_of_bounds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], table: str, setting: str, fix: str
) -> None:
    """The installer's check-config names each problem with the fix (README), a number out of its
    bounds too: the bound it must keep to, not a bare pydantic message."""
    text = site_toml(tmp_path / "data")
    header = f"[{table}]\n"
    text = (
        text.replace(header, header + setting + "\n", 1) if header in text else f"{text}\n{header}{setting}\n"
    )
    config = tmp_path / "site.toml"
    config.write_text(text, encoding="utf-8")
    assert main(["check-config", str(config)]) == EX_CONFIG
    err = capsys.readouterr().err
    assert f"fix: {fix}" in err, err
