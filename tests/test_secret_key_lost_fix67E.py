"""secret.key lost (fsck on a failing SD card put it in lost+found; Review 67 E4): the next start made
a new key without a word, and every phone and ID number stored hashed with the old one stopped
matching: a resident's phone found nobody, a returning visitor was a stranger. The start is refused
where the database holds such hashes (exit 78), saying to restore the key; a key made anew on
purpose, as the fix says, starts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.config import EX_CONFIG
from gateway.errors import StorageError
from gateway.runtime.gateway import Gateway
from tests.conftest import site_toml
from tests.ui.conftest import DRIVEN, make_config, start_site


def test_a_lost_site_key_is_not_made_anew_over_stored_hashes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    site = start_site(make_config(data))  # a resident with a phone number
    site.gw.stop()
    site.gw.conn.close()
    key = data / "secret.key"
    kept = key.read_bytes()
    key.unlink()

    with pytest.raises(StorageError, match="secret.key is missing"):
        Gateway(make_config(data))
    config = tmp_path / "site.toml"
    config.write_text(site_toml(data) + DRIVEN, encoding="utf-8")
    assert main(["run", "-c", str(config)]) == EX_CONFIG  # systemd does not restart it
    said = capsys.readouterr().err
    assert "restore secret.key from the newest backup" in said, said
    assert not key.exists()

    key.write_bytes(os.urandom(len(kept)))  # a new key on purpose, as the fix words it
    gw = Gateway(make_config(data))
    gw.conn.close()
    assert key.read_bytes() != kept
