"""A site.toml saved "UTF-8 with BOM" (Windows Notepad) loads: it was refused as "not valid TOML:
Invalid statement (at line 1, column 1)", pointing at a valid line. `gateway check-config` and
`gateway run` both read the file through load_config."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.config import load_config
from tests.conftest import site_toml


def _bom_config(tmp_path: Path) -> Path:
    path = tmp_path / "site.toml"
    path.write_bytes(codecs.BOM_UTF8 + site_toml(tmp_path / "data").encode("utf-8"))
    return path


def test_a_config_with_a_byte_order_mark_loads(tmp_path: Path) -> None:
    cfg = load_config(_bom_config(tmp_path))
    assert cfg.site.id == "test-site"
    assert cfg.site.name == "测试小区"


def test_check_config_says_ok_of_a_config_with_a_byte_order_mark(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _bom_config(tmp_path)
    assert main(["check-config", str(path)]) == 0
    out, err = capsys.readouterr()
    assert f"{path}: ok (" in out
    assert "not valid TOML" not in err
