"""Review 66 fix R4: a correct list of hex ids imported at a site of hex readers (em4100_number =
"hex", the default) was warned that its few all-digit ids are "10 digits only" and told to set
em4100_number = "decimal", which would break those cards. A list holding a number with A-F is a
hex list, its all-digit numbers hex ids too: not warned. A list of digits only still is."""

from __future__ import annotations

import logging
import random
from pathlib import Path

import pytest

from gateway.config import parse_config
from gateway.store.admin import import_csv
from tests.conftest import site_toml
from tests.drivers.test_card_printed_at_hex_site_fix66I import PRINTED, READER, _cards


def test_a_hex_list_at_a_hex_site_is_not_told_to_set_decimal(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rng = random.Random(4)
    ids = ["0012345678", "0098765432", "0011223344"]  # hex ids of digits only: about 1 in 100
    while len(ids) < 200:
        ids += [i for i in [f"{rng.randrange(1 << 40):010X}"] if not i.isdigit() and i not in ids]
    assert sum(i.isdigit() for i in ids) == 3
    cfg = parse_config(site_toml(tmp_path / "data") + READER.format(port="/dev/ttyUSB-door"), "site.toml")
    with caplog.at_level(logging.WARNING):
        assert import_csv(cfg, _cards(tmp_path, *ids))["cards"] == 200
    assert "em4100_number" not in caplog.text, caplog.text


def test_a_list_of_digits_only_is_still_warned(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cfg = parse_config(site_toml(tmp_path / "data") + READER.format(port="/dev/ttyUSB-door"), "site.toml")
    with caplog.at_level(logging.WARNING):
        import_csv(cfg, _cards(tmp_path, PRINTED, "3808980205"))
    assert 'em4100_number = "decimal"' in caplog.text
