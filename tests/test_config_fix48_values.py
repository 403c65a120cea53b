"""Installer's config values typed wrong: each accepted silently, or refused with a fix that misleads
(review 48h). A price with a decimal point, a baud rate in quotes, [lanes] for [[lanes]], a data_dir
the service cannot use, a motorcycle lane into a zone without motorcycle spaces."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.config import EX_CONFIG, ConfigError, SiteConfig, parse_config
from gateway.config.filecheck import SERVICE_DATA_DIR
from gateway.runtime.gateway import Gateway
from gateway.store.admin import import_csv
from tests.conftest import site_toml, write_csv
from tests.parking.conftest import T0, show

TARIFF = '\n[[parking.tariffs]]\nversion = "v1"\neffective_from = 2025-01-01\n\n[parking.tariffs.car]\n'


def _check(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    path = tmp_path / "site.toml"
    path.write_text(text, encoding="utf-8")
    status = main(["check-config", str(path)])
    out = capsys.readouterr()
    return status, out.out + out.err


def _refused(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "site.toml")
    return info.value.render()


def _fix_of(said: str, key: str) -> str:
    """The fix line of the problem at `key` (its last name)."""
    fix = re.search(rf"{re.escape(key)}: .*\n\s*fix: (.*)", said)
    assert fix, said
    return fix.group(1)


# 1. A price written with a decimal point ----------------------------------------------------------


def test_a_price_written_with_a_decimal_point_is_not_taken_as_fen(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`period_fen = 5.0` (5元 an hour, typed as yuan with a decimal point) passes check-config and
    every temporary car pays 5 fen (0.05元) an hour; `period_fen = 2.5` is refused with the fen fix.
    A price written as a decimal number should be refused the same way (fix: 5元 is 500)."""
    text = site_toml(tmp_path / "data") + TARIFF + "period_fen = 5.0\n"
    status, said = _check(tmp_path, text, capsys)
    assert status == EX_CONFIG, f"check-config accepted period_fen = 5.0 as 5 fen (0.05元): {said}"
    assert "period_fen" in said and "500" in said, said


NIGHT = '[parking.tariffs.car.night]\nhours = "22:00-07:00"\n'
FEN_KEYS = [
    ("first_period_fen", "period_fen = 200\nfirst_period_fen = {}\n"),
    ("period_fen", "period_fen = {}\n"),
    ("daily_cap_fen", "period_fen = 200\ndaily_cap_fen = {}\n"),
    ("max_per_stay_fen", "period_fen = 200\nmax_per_stay_fen = {}\n"),
    ("night.period_fen", "period_fen = 200\n" + NIGHT + "period_fen = {}\n"),
    ("night.cap_fen", "period_fen = 200\n" + NIGHT + "period_fen = 100\ncap_fen = {}\n"),
]
DECIMALS = [("5.0", "5元 is 500"), ("30.0", "30元 is 3000"), ("2.5", "2.5元 is 250")]


@pytest.mark.parametrize(("key", "written"), FEN_KEYS)
@pytest.mark.parametrize(("value", "fen"), DECIMALS)
def test_every_price_with_a_decimal_point_is_refused_with_the_fen_fix(
    tmp_path: Path, key: str, written: str, value: str, fen: str
) -> None:
    said = _refused(site_toml(tmp_path / "data") + TARIFF + written.format(value))
    fix = _fix_of(said, key)
    assert fix.startswith(f"write a whole number: prices are in fen (分), {fen}"), said


@pytest.mark.parametrize("value", ['"500"', "true"])
def test_a_price_in_quotes_or_true_is_not_taken_as_a_number(tmp_path: Path, value: str) -> None:
    said = _refused(site_toml(tmp_path / "data") + TARIFF + f"period_fen = {value}\n")
    assert "prices are in fen" in _fix_of(said, "period_fen"), said


def test_prices_written_as_whole_numbers_still_load(tmp_path: Path) -> None:
    prices = "first_period_fen = 7\nperiod_fen = 7\ndaily_cap_fen = 7\nmax_per_stay_fen = 9000\n"
    text = site_toml(tmp_path / "data") + TARIFF + prices + NIGHT + "period_fen = 0\ncap_fen = 500\n"
    rate = parse_config(text, "site.toml").parking.tariffs[0].car
    assert rate is not None and rate.night is not None
    caps = (rate.daily_cap_fen, rate.max_per_stay_fen)
    assert (rate.first_period_fen, rate.period_fen, *caps) == (7, 7, 7, 9000)
    assert (rate.night.period_fen, rate.night.cap_fen) == (0, 500)


# 2. A number among a few choices, in quotes -------------------------------------------------------

READER = (
    '\n[[devices]]\nid = "door-reader"\nlane = "door"\nkind = "reader"\n'
    'driver = "serial-reader"\nport = "/dev/ttyUSB7"\n'
)
MODBUS = (
    '\n[[devices]]\nid = "car-out-io"\nlane = "car-out"\nkind = "relay"\ndriver = "modbus"\n'
    'port = "/dev/ttyUSB8"\ncoil = 0\n'
)


def test_a_baud_rate_in_quotes_is_told_to_lose_its_quotes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`baudrate = "9600"` is refused with "fix: use one of 1200, 2400, 4800, 9600, ..." though 9600 is
    what the installer wrote: the fix does not say what is wrong (the quotes). It should say to write
    the number without quotes (baudrate = 9600)."""
    text = site_toml(tmp_path / "data") + READER + 'format = "em4100"\nbaudrate = "9600"\n'
    status, said = _check(tmp_path, text, capsys)
    assert status == EX_CONFIG
    fix = re.search(r"baudrate.*\n\s*fix: (.*)", said)
    assert fix, said
    assert "quote" in fix.group(1), f"the fix does not say to remove the quotes: {fix.group(1)!r}"


@pytest.mark.parametrize(
    ("device", "line", "fix"),
    [
        (READER, 'format = "em4100"\nbaudrate = " 9600"\n', "write baudrate = 9600 without quotes"),
        (READER, 'format = "wiegand"\nwiegand_bits = "34"\n', "write wiegand_bits = 34 without quotes"),
        (MODBUS, 'stopbits = "2"\n', "write stopbits = 2 without quotes"),
    ],
)
def test_each_number_of_a_few_in_quotes_is_told_to_lose_its_quotes(
    tmp_path: Path, device: str, line: str, fix: str
) -> None:
    said = _refused(site_toml(tmp_path / "data") + device + line)
    key = line.splitlines()[-1].split(" =")[0]
    assert _fix_of(said, key).startswith(fix), said
    number = line.splitlines()[-1]
    followed = line.replace(number, number.replace('"', "").replace(" 9600", "9600"))
    parse_config(site_toml(tmp_path / "data") + device + followed, "site.toml")


@pytest.mark.parametrize("value", ['"9601"', '"fast"', "9601"])
def test_a_value_not_among_the_choices_is_still_given_them(tmp_path: Path, value: str) -> None:
    said = _refused(site_toml(tmp_path / "data") + READER + f'format = "em4100"\nbaudrate = {value}\n')
    assert _fix_of(said, "baudrate") == "use one of 1200, 2400, 4800, 9600, 19200, 38400, 57600 or 115200"


# 3. A table in the other form: [lanes] for [[lanes]], [[policy]] for [policy] ----------------------

ONE_LANE = """
[site]
id = "s1"
name = "测试小区"
data_dir = "{data}"

[[zones]]
id = "main"
name = "车库"
capacity = {{ car = 10 }}

[[gates]]
id = "north"
name = "北门"

[lanes]
id = "car-in"
gate = "north"
direction = "entrance"
type = "vehicle"
zone = "main"
"""


def test_a_lane_written_under_single_brackets_is_told_to_use_double_brackets(tmp_path: Path) -> None:
    """A lane written under `[lanes]` (one bracket, a common slip for `[[lanes]]`) is refused with
    "fix: lanes takes a list in brackets: lanes = ["..."]": followed, the file is refused again (a
    lane is a table, not a string). The fix should say to write the header as [[lanes]]."""
    text = ONE_LANE.format(data=tmp_path / "data")
    said = _refused(text)
    assert "lanes" in said
    assert "[[lanes]]" in said, f"the fix does not name the [[lanes]] header: {said}"
    assert "lanes = [" not in said, said
    parse_config(text.replace("[lanes]", "[[lanes]]"), "site.toml")  # the fix followed


def test_tariffs_under_single_brackets_are_told_their_double_header(tmp_path: Path) -> None:
    tariff = TARIFF.replace("[[parking.tariffs]]", "[parking.tariffs]")
    text = site_toml(tmp_path / "data") + tariff + "period_fen = 200\n"
    assert "[[parking.tariffs]] header" in _fix_of(_refused(text), "parking.tariffs")


def test_a_list_of_lanes_given_as_values_is_told_to_write_tables(tmp_path: Path) -> None:
    text = site_toml(tmp_path / "data")
    text = 'lanes = "car-in"\n' + re.sub(r"\[\[lanes\]\].*?(?=\n\[\[devices)", "", text, flags=re.S)
    text = re.sub(r"\[\[devices\]\].*?(?=\n\[http)", "", text, flags=re.S)
    assert "[[lanes]] header" in _fix_of(_refused(text), "lanes")
    said = _refused(text.replace('lanes = "car-in"', 'lanes = ["car-in"]'))
    assert "[[lanes]] header of its own" in _fix_of(said, "lanes[0]"), said


def test_a_one_table_written_as_a_list_of_tables_is_told_its_single_header(tmp_path: Path) -> None:
    """`[[policy]]` for `[policy]`: refused with no fix line at all, though README says each problem
    comes with its fix."""
    text = site_toml(tmp_path / "data").replace("[policy]", "[[policy]]")
    fix = _fix_of(_refused(text), "policy")
    assert "[policy]" in fix and "one bracket" in fix, fix


@pytest.mark.parametrize("night", ["[1]", '"22:00-07:00"'])
def test_a_night_rate_given_as_a_value_is_told_its_header(tmp_path: Path, night: str) -> None:
    said = _refused(site_toml(tmp_path / "data") + TARIFF + f"period_fen = 200\nnight = {night}\n")
    fix = _fix_of(said, "night")
    assert "[parking.tariffs.car.night]" in fix and "hours, period_fen, cap_fen" in fix, said


def test_a_capacity_given_as_one_number_is_told_its_keys(tmp_path: Path) -> None:
    text = re.sub(r"capacity = \{.*\}", "capacity = 10", site_toml(tmp_path / "data"))
    fix = _fix_of(_refused(text), "capacity")
    assert "capacity = { car = ... }" in fix and "car, motorcycle, bicycle" in fix, fix


# 4. A data_dir the service cannot use -------------------------------------------------------------


def test_check_config_warns_of_a_data_dir_the_service_cannot_use(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """data_dir = "/home/pi/estate" passes check-config with no warning; the shipped unit
    (ProtectHome=yes, ProtectSystem=strict, ReadWritePaths=/var/lib/estate-gateway) hides /home from
    the service, so it cannot keep its database there (and one under /tmp would be its PrivateTmp,
    emptied at every stop). README promises check-config warns of paths under /home, /root or /tmp."""
    text = site_toml(Path("/home/pi/estate-data"))
    status, said = _check(tmp_path, text, capsys)
    assert status == 0, said
    assert "warning" in said and "data_dir" in said, f"no warning for data_dir under /home: {said}"
    warned = next(line for line in said.splitlines() if "site.data_dir" in line)
    assert "ProtectHome" in warned and 'data_dir = "/var/lib/estate-gateway"' in warned, warned


def test_check_config_warns_of_a_data_dir_under_root(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, said = _check(tmp_path, site_toml(Path("/root/gateway")), capsys)
    assert status == 0 and "warning: site.data_dir: /root/gateway is under /root" in said, said


def test_check_config_warns_that_a_data_dir_under_tmp_is_emptied_at_each_stop(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "data").mkdir()
    status, said = _check(tmp_path, site_toml(tmp_path / "data"), capsys)
    assert status == 0, said
    warned = [line for line in said.splitlines() if "site.data_dir" in line]
    assert len(warned) == 1 and "PrivateTmp" in warned[0] and "lost at each restart" in warned[0], said
    assert f"sudo cp -a {tmp_path / 'data'}/. /var/lib/estate-gateway/" in warned[0], said


def test_no_warning_of_the_data_dir_the_unit_makes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, said = _check(tmp_path, site_toml(Path("/var/lib/estate-gateway")), capsys)
    assert status == 0 and "data_dir" not in said, said


def test_the_data_dir_named_in_the_fix_is_the_one_the_shipped_unit_writes() -> None:
    unit = (Path(__file__).parents[1] / "systemd" / "estate-gateway.service").read_text(encoding="utf-8")
    settings = dict(line.split("=", 1) for line in unit.splitlines() if re.match(r"^[A-Za-z]+=", line))
    assert settings["ReadWritePaths"] == str(SERVICE_DATA_DIR)
    assert Path("/var/lib") / settings["StateDirectory"] == SERVICE_DATA_DIR


# 5. A motorcycle lane into a zone without motorcycle spaces ---------------------------------------

MOTO_IN = (
    '\n[[lanes]]\nid = "moto-in"\ngate = "north"\ndirection = "{direction}"\ntype = "vehicle"\n'
    'zone = "main"\nvehicle_class = "{vclass}"\n'
)


def _moto_site(data: Path, vclass: str = "motorcycle", direction: str = "entrance") -> str:
    text = site_toml(data).replace(f"{vclass} = 5, ", "").replace(f", {vclass} = 5", "")
    assert f"{vclass} = 5" not in text
    return text + MOTO_IN.format(vclass=vclass, direction=direction)


def test_a_motorcycle_lane_into_a_zone_without_motorcycle_spaces_is_warned_of(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A lane with vehicle_class = "motorcycle" leading to a zone whose capacity has no motorcycle
    key (default 0) passed check-config as ok, and every motorcycle read there is refused zone_full
    (车位已满) in an empty car park. check-config warns, naming the zone's motorcycle capacity; a
    warning, not a refusal, so a site upgraded with such a lane still starts (its other lanes run)."""
    status, said = _check(tmp_path, _moto_site(tmp_path / "data"), capsys)
    warned = [line for line in said.splitlines() if "capacity.motorcycle is 0" in line]
    assert status == 0 and len(warned) == 1, f"check-config says nothing of it: {said}"
    assert "lanes[3] moto-in" in warned[0] and "zone 'main'" in warned[0], said
    assert "add motorcycle = (its motorcycle spaces) to the capacity of zone 'main'" in warned[0], said


def test_a_bicycle_lane_into_a_zone_without_bicycle_spaces_names_the_zone_that_has_some(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = _moto_site(tmp_path / "data", "bicycle") + (
        '\n[[zones]]\nid = "sheds"\nname = "车棚"\ncapacity = { bicycle = 200 }\n'
    )
    status, said = _check(tmp_path, text, capsys)
    assert status == 0 and "no bicycle spaces" in said and "a zone that has some (sheds)" in said, said


def test_a_motorcycle_exit_into_such_a_zone_is_no_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No exit is refused for a full zone: only an entrance is checked."""
    status, said = _check(tmp_path, _moto_site(tmp_path / "data", direction="exit"), capsys)
    assert status == 0 and "capacity.motorcycle" not in said, said


def test_the_runtime_refuses_every_motorcycle_there_and_admits_a_car_on_its_slot(tmp_path: Path) -> None:
    """Why the warnings say so: fixed slots are car slots, so a
    registered motorcycle with a slot is refused 车位已满 too; a registered car on its own slot comes in
    through a zone with no shared car spaces."""
    text = _moto_site(tmp_path / "data").replace("capacity = { car = 10", "capacity = { car = 1")
    cfg = SiteConfig.model_validate(tomllib.loads(text))  # as the runtime would take it, unchecked
    import_csv(
        cfg,
        [
            write_csv(tmp_path / "r.csv", "ref,building,unit,name\nR1,3栋,2单元,张三\n"),
            write_csv(tmp_path / "v.csv", "plate,resident_ref,class\n苏M11111,R1,motorcycle\n苏A22222,R1,\n"),
            write_csv(tmp_path / "s.csv", "zone,number,resident_ref,plates\nmain,A-1,R1,苏M11111;苏A22222\n"),
        ],
    )
    gw = Gateway(cfg)
    try:
        assert show(gw, "moto-in", "苏E12345", T0).reason == "zone_full"  # unregistered
        assert show(gw, "moto-in", "苏M11111", T0).reason == "zone_full"  # registered, with a slot
        assert show(gw, "moto-in", "苏A22222", T0).reason == "resident"  # a car on its own slot
    finally:
        gw.conn.close()


def test_check_config_warns_of_a_car_lane_into_a_zone_without_car_spaces(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, said = _check(tmp_path, site_toml(tmp_path / "data", capacity=0), capsys)
    assert status == 0, said
    warned = [line for line in said.splitlines() if "capacity.car is 0" in line]
    assert len(warned) == 1 and "lanes[0] car-in: leads into zone 'main'" in warned[0], said
    assert "only cars on their own fixed slots there come in" in warned[0], said


def test_a_whole_price_with_a_decimal_point_from_an_earlier_version_is_told_both_readings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """period_fen = 500.0 ran as 500 fen (5元) before prices became strict; refused now, its fix must
    not only say '500元 is 50000' (followed, every car pays 500元 an hour): it names the price it
    was charged at, 500 fen, too."""
    text = site_toml(tmp_path / "data") + TARIFF + "period_fen = 500.0\n"
    status, said = _check(tmp_path, text, capsys)
    assert status == EX_CONFIG, said
    assert "earlier versions charged 500 fen for it: write 500 to keep that price" in said, said
