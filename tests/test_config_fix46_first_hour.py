"""An installer's first hour with one site config: what `gateway check-config` says of a mistyped
value, against what starting the gateway (or using it) then does with the same file.

One test per bug the review of fix 46 found (an installer's config messages)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.bench.common import free_port
from gateway.cli import main
from gateway.config import EX_CONFIG, ConfigError, parse_config
from tests.conftest import site_toml
from tests.ui.conftest import bearer, make_config, start_site

REPO = Path(__file__).resolve().parent.parent


def _check_config(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", "check-config", str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _run(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", "run", "-c", str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _rendered(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "site.toml")
    return info.value.render()


def test_a_mistyped_listen_address_is_refused_by_check_config_not_left_to_a_restart_loop(
    tmp_path: Path,
) -> None:
    """`[http] listen = "192.168.1.300"` (a slip for .30) passes check-config ("ok"), but the start
    exits 1 ("cannot listen on 192.168.1.300 ... Name or service not known"), which the unit's
    Restart=on-failure repeats every 2 s for ever. No dotted quad with an octet over 255 is an address
    or a host name: check-config should refuse it, naming http.listen, as the start's exit 78 would."""
    config = tmp_path / "site.toml"
    config.write_text(
        site_toml(tmp_path / "data", port=free_port()).replace(
            "[http]\n", '[http]\nlisten = "192.168.1.300"\n', 1
        ),
        encoding="utf-8",
    )
    started = _run(config)
    assert started.returncode != 0 and "192.168.1.300" in started.stderr, started.stderr[-800:]
    checked = _check_config(config)
    assert checked.returncode == EX_CONFIG and "http.listen" in checked.stderr, (
        f"check-config exit {checked.returncode}: {checked.stdout.strip()!r}; "
        f"the start exits {started.returncode}: {started.stderr.strip().splitlines()[-2:]}"
    )


@pytest.mark.parametrize("host", ["mqtt://mqtt.property.example.cn", "mqtt.property.example.cn:8883"])
def test_an_mqtt_host_written_as_a_url_or_with_its_port_is_refused(tmp_path: Path, host: str) -> None:
    """docs/config.md: `[mqtt] host` is a "Host name or IP address". Written as the broker's URL
    (mqtt://...) or with its port (host:8883), check-config says ok, and the gateway then never
    connects (paho looks the whole text up as a name), retrying for ever while every record waits.
    check-config should refuse it, naming mqtt.host, as it does such values for [http] listen."""
    text = site_toml(tmp_path / "data") + f'\n[mqtt]\nenabled = true\nhost = "{host}"\n'
    try:
        parse_config(text, "site.toml")
    except ConfigError as exc:
        assert "mqtt.host" in exc.render()
    else:
        pytest.fail(f"[mqtt] host = {host!r} was accepted")


def test_a_default_visitor_pass_longer_than_the_longest_allowed_is_refused_by_check_config(
    tmp_path: Path,
) -> None:
    """`[visitors] visitor_max_days = 1` (same-day visitors only) with `default_hours = 48` passes
    check-config, and then every visitor the guard registers without an end time (the usual case)
    is refused 422 "valid_to: a visitor pass lasts at most 1 days" - a field the guard never typed.
    The config check should refuse default_hours longer than visitor_max_days (or the pass work)."""
    extra = "\n[visitors]\ndefault_hours = 48\nvisitor_max_days = 1\n"
    try:
        cfg = make_config(tmp_path / "data", extra)
    except ConfigError:
        return  # refused at the check, naming the keys: fixed
    site = start_site(cfg)
    try:
        with TestClient(create_app(site.gw)) as client:
            r = client.post(
                "/api/visitors",
                json={"name": "王五", "host_building": "3栋", "host_unit": "2单元", "phone": "13800138000"},
                headers=bearer(site.guard_token),
            )
        assert r.status_code == 201, f"config accepted, then registering a visitor: {r.status_code} {r.text}"
    finally:
        site.gw.stop()


def test_check_config_warns_of_a_serial_port_that_is_a_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A reader's `port = "/dev/pts/"` (the folder, its number left off; likewise /dev/serial/by-id/)
    passes check-config without a word, though it warns of a port that is not there; the started
    gateway then shows the reader offline "[Errno 21] could not open port /dev/pts/: Is a
    directory". check-config should warn that the port is a folder, not a device, as it does for a
    missing one."""
    config = tmp_path / "site.toml"
    config.write_text(
        site_toml(tmp_path / "data")
        + '\n[[devices]]\nid = "door-reader"\nlane = "door"\nkind = "reader"\n'
        'driver = "serial-reader"\nport = "/dev/pts/"\nformat = "em4100"\n',
        encoding="utf-8",
    )
    from drivers.serialport import PortError, open_port

    with pytest.raises(PortError):  # what the started gateway gets
        open_port("/dev/pts/", 9600)
    assert main(["check-config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "/dev/pts/" in out, f"check-config said only: {out.strip()!r}"


def test_an_unknown_array_table_is_named_with_its_line(tmp_path: Path) -> None:
    """README: "A bad file is reported whole, each problem with its line". `[[tariffs]]` written at
    the top level (for [[parking.tariffs]]) is reported as "site.toml: tariffs: Extra inputs are
    not permitted", with no line, while `[tarifs]` gets its line: the installer has to hunt for it.
    It should carry the line of its [[tariffs]] header."""
    text = site_toml(tmp_path / "data") + '\n[[tariffs]]\nversion = "v1"\neffective_from = 2025-01-01\n'
    said = _rendered(text)
    line = text.splitlines().index("[[tariffs]]") + 1
    assert f"site.toml:{line}: tariffs" in said, said


def test_hours_written_in_the_other_form_get_a_fix(tmp_path: Path) -> None:
    """A lane's hours are a list (hours = ["07:00-21:00"]), a patrol route's a string. Written as a
    lane's, a route's `hours = ["22:00-06:00"]` is refused with "Input should be a valid string"
    and nothing else: no value, no fix, though the README promises each problem "the value and the
    fix". It should say what to write (hours = "22:00-06:00")."""
    text = (
        site_toml(tmp_path / "data")
        + '\n[[devices]]\nid = "cp1"\nlane = "door"\nkind = "reader"\ndriver = "serial-reader"\n'
        'port = "/dev/ttyUSB7"\nformat = "em4100"\nrole = "patrol"\n'
        '\n[[patrol.routes]]\nid = "night"\ncheckpoints = ["cp1"]\nhours = ["22:00-06:00"]\n'
    )
    said = _rendered(text)
    assert "patrol.routes[0].hours" in said
    assert "fix:" in said, said


def test_a_price_typed_in_yuan_is_not_told_to_lose_its_quotes(tmp_path: Path) -> None:
    """Prices are fen. `period_fen = 2.5` (2.5元 typed as yuan) is refused with "fix: write the
    value without quotes, in the type the field takes": there are no quotes, and the installer is
    left guessing. The fix should say what to write: a whole number of fen (250)."""
    text = (
        site_toml(tmp_path / "data")
        + '\n[[parking.tariffs]]\nversion = "v1"\neffective_from = 2025-01-01\n'
        "\n[parking.tariffs.car]\nperiod_fen = 2.5\n"
    )
    said = _rendered(text)
    fix = re.search(r"fix: (.*)", said)
    assert fix, said
    assert "quotes" not in fix.group(1), said


def test_a_key_in_the_wrong_table_is_pointed_to_its_table(tmp_path: Path) -> None:
    """TOML puts a key under the last table header above it: `listen = "0.0.0.0"` added at the end of
    the example (below [storage]) is refused "storage.listen: ... fix: remove the key or use one of:
    sync". Removing it, as told, leaves the guard pages on 127.0.0.1, out of the tablet's reach. The
    fix should say that listen belongs in [http]."""
    text = site_toml(tmp_path / "data") + '\n[storage]\nsync = "full"\nlisten = "0.0.0.0"\n'
    said = _rendered(text)
    assert "storage.listen" in said
    assert "[http]" in said or "http.listen" in said, said


def test_check_config_says_of_https_files_swapped_what_the_start_stops_for(tmp_path: Path) -> None:
    """`[http] tls_cert_file` and `tls_key_file` swapped (the key named as the certificate): both files
    exist, so check-config says "ok" with no warning at all; `gateway run` with the same file stops
    at once (exit 78, "[http] TLS: cannot load ..."), and systemd does not start it again. The check
    the installer runs before `systemctl start` should say so (refuse, or at least warn naming the
    keys), as it warns of a missing certificate."""
    from tests.sync.sync_helpers import make_certs

    tls = make_certs(tmp_path / "tls")
    config = tmp_path / "site.toml"
    config.write_text(
        site_toml(tmp_path / "data", port=free_port()).replace(
            "[http]\n",
            f'[http]\ntls_cert_file = "{tls.server_key}"\ntls_key_file = "{tls.server_cert}"\n',
            1,
        ),
        encoding="utf-8",
    )
    started = _run(config)
    assert started.returncode == EX_CONFIG and "TLS" in started.stderr, started.stderr[-800:]
    checked = _check_config(config)
    said = checked.stdout + checked.stderr
    assert checked.returncode == EX_CONFIG or "tls_cert_file" in said, (
        f"check-config exit {checked.returncode}: {said.strip()!r}; "
        f"the start: exit {started.returncode}: {started.stderr.strip().splitlines()[-2:]}"
    )


def test_check_config_still_only_warns_of_https_files_not_copied_yet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Loading the TLS files as the start does refuses a pair that is there and does not load; a
    certificate not copied over yet stays a warning, as before (it may be there by the start)."""
    config = tmp_path / "site.toml"
    config.write_text(
        site_toml(tmp_path / "data").replace(
            "[http]\n",
            f'[http]\ntls_cert_file = "{tmp_path / "gw.crt"}"\ntls_key_file = "{tmp_path / "gw.key"}"\n',
            1,
        ),
        encoding="utf-8",
    )
    assert main(["check-config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "http.tls_cert_file" in out and "does not exist" in out, out
