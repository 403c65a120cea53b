"""Review 61f: an [mqtt] password file written with sudo is root's; with mode 600 the service
cannot read it, and the link's error (journal, /api/health mqtt.last_error) said to create it
"readable by the gateway user only (chmod 600)": chmod leaves it root's. Now the fix gives it to
the service's user, as check-config's own fix for the same file says."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.config import parse_config
from gateway.sync.broker_settings import broker_settings
from gateway.sync.errors import LinkSetupError
from tests.conftest import site_toml
from tests.nobody import as_nobody, needs_root

OWN = "sudo chown estate-gateway:estate-gateway {path} && sudo chmod 600 {path}"


def _fix_as_nobody(folder: Path, mqtt: str) -> str:
    """The link's setup error and its fix, as the service's user (here nobody) meets them."""
    cfg = parse_config(site_toml(folder / "data") + '\n[mqtt]\nenabled = true\nhost = "localhost"\n' + mqtt)

    def attempt() -> str:
        try:
            broker_settings(cfg.mqtt, "gw", ("t", b""))
        except LinkSetupError as exc:
            return f"{exc.message}\nfix: {exc.fix}"
        return "no error"

    return as_nobody(attempt)


@pytest.fixture
def box() -> Iterator[Path]:
    """A folder nobody may enter (pytest's own tmp_path lies under a 0700 folder of root's)."""
    folder = Path(tempfile.mkdtemp())
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _root_only(path: Path) -> Path:
    path.write_text("s3cret\n")
    path.chmod(0o600)  # as `sudo tee` and `sudo chmod 600` leave it: root's
    return path


@needs_root
def test_a_password_file_the_service_cannot_read_is_given_to_it(box: Path) -> None:
    secret = _root_only(box / "mqtt-password")
    said = _fix_as_nobody(box, f'username = "gw"\npassword_file = "{secret}"\n')
    assert said.startswith(f"cannot read [mqtt] password_file {secret}: Permission denied"), said
    assert OWN.format(path=secret) in said, said


def test_a_missing_password_file_is_created_and_given_to_the_service(tmp_path: Path) -> None:
    secret = tmp_path / "mqtt-password"
    cfg = parse_config(
        site_toml(tmp_path / "data")
        + f'\n[mqtt]\nenabled = true\nhost = "localhost"\nusername = "gw"\npassword_file = "{secret}"\n'
    )
    try:
        broker_settings(cfg.mqtt, "gw", ("t", b""))
    except LinkSetupError as exc:
        assert exc.fix.startswith("create the file"), exc.fix
        assert OWN.format(path=secret) in exc.fix, exc.fix
    else:
        raise AssertionError("a missing password file was taken")


@needs_root
def test_a_client_key_the_service_cannot_read_is_given_to_it(box: Path) -> None:
    ca, cert = (box / "ca.pem", box / "client.pem")
    for readable in (ca, cert):
        readable.write_text("-----BEGIN CERTIFICATE-----\n")
        readable.chmod(0o644)
    key = _root_only(box / "client.key")
    said = _fix_as_nobody(box, f'port = 8883\nca_file = "{ca}"\ncert_file = "{cert}"\nkey_file = "{key}"\n')
    assert said.startswith(f"cannot read [mqtt] key_file {key}: Permission denied"), said
    assert OWN.format(path=key) in said, said
