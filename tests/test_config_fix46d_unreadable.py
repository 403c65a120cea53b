"""README, command table: `gateway check-config FILE...` "warns of what this box lacks now (a serial
port, or a port that is a folder, a certificate or password file, one this user cannot read)":
the [mqtt] files too, not only [http]'s."""

from __future__ import annotations

from pathlib import Path

from gateway.config import SiteConfig, filecheck, parse_config
from tests.conftest import site_toml
from tests.nobody import as_nobody, needs_root


def _warnings_as_nobody(cfg: SiteConfig) -> list[str]:
    """filecheck.warnings(cfg), what check-config prints, run as user nobody."""
    return as_nobody(lambda: "\n".join(filecheck.warnings(cfg))).splitlines()


def _root_only(folder: Path, name: str) -> Path:
    secret = folder / name
    secret.write_text("s3cret\n")
    secret.chmod(0o600)  # root's; the checking user (nobody) cannot read it
    return secret


@needs_root
def test_check_config_warns_of_an_mqtt_password_file_this_user_cannot_read(tmp_path: Path) -> None:
    """An [mqtt] password_file that is there but unreadable to the user running check-config is
    warned of, as the README says; check-config warned of unreadable [http] TLS files only."""
    tmp_path.chmod(0o755)
    secret = _root_only(tmp_path, "mqtt.pass")
    text = site_toml(tmp_path / "data", port=80) + (
        '\n[mqtt]\nenabled = true\nhost = "localhost"\nusername = "gw"\n'
        f'password_file = "{secret}"\n'
    )
    warned = _warnings_as_nobody(parse_config(text, "site.toml"))
    assert any(w.startswith("http.port: 80") for w in warned), f"the check did not run as nobody: {warned}"
    found = [w for w in warned if w.startswith("mqtt.password_file:")]
    assert found, f"no warning of the unreadable password file: {warned}"
    assert str(secret) in found[0] and "estate-gateway" in found[0]


@needs_root
def test_check_config_warns_of_each_mqtt_tls_file_this_user_cannot_read(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    files = {key: _root_only(tmp_path, f"{key}.pem") for key in ("ca_file", "cert_file", "key_file")}
    text = site_toml(tmp_path / "data", port=80) + (
        '\n[mqtt]\nenabled = true\nhost = "localhost"\nport = 8883\n'
        + "".join(f'{key} = "{path}"\n' for key, path in files.items())
    )
    warned = _warnings_as_nobody(parse_config(text, "site.toml"))
    for key in files:
        assert any(w.startswith(f"mqtt.{key}:") for w in warned), f"no warning of mqtt.{key}: {warned}"


@needs_root
def test_no_warning_of_unreadable_mqtt_files_while_mqtt_is_off(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    secret = _root_only(tmp_path, "mqtt.pass")
    text = site_toml(tmp_path / "data", port=80) + (
        f'\n[mqtt]\nenabled = false\nhost = "localhost"\nusername = "gw"\npassword_file = "{secret}"\n'
    )
    warned = _warnings_as_nobody(parse_config(text, "site.toml"))
    assert any(w.startswith("http.port: 80") for w in warned), f"the check did not run as nobody: {warned}"
    assert not [w for w in warned if w.startswith("mqtt.")], warned
