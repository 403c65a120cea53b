"""Phone masks that hide the number, one person whatever the country code, and a site key that is
never empty."""

from __future__ import annotations

import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gateway.errors import StorageError
from gateway.privacy import KEY_BYTES, Secrets, mask_phone
from gateway.store.csv_rows import parse_resident


def _digits(text: str) -> int:
    return len(re.sub(r"\D", "", text))


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("138 1234 5678", "138****5678"),  # a mobile: as before
        ("0755-1234-5678", "075****5678"),  # a landline with its area code
        ("8765-4321", "****4321"),  # a landline without it: once shown as 876****4321
        ("6543210", "****210"),  # once shown whole as 654****3210
        ("1234567890", "******7890"),
    ],
)
def test_a_masked_phone_hides_more_digits_than_it_shows(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked
    assert _digits(masked) <= min(7, _digits(phone) - 4)


@pytest.mark.parametrize("phone", ["8765-4321", "6543210", "13812345678"])
def test_every_masked_phone_can_be_imported_back_from_an_export(phone: str) -> None:
    row = {"ref": "r1", "building": "1", "unit": "1", "name": "张三", "phone_masked": mask_phone(phone)}
    assert parse_resident(row, ZoneInfo("Asia/Shanghai")).phone_masked == mask_phone(phone)


@pytest.mark.parametrize(
    "typed", ["+86 138 0013 8000", "0086 138 0013 8000", "86-138-0013-8000", "+8613800138000"]
)
def test_a_mobile_typed_with_the_country_code_is_the_same_person(tmp_path: Path, typed: str) -> None:
    secrets = Secrets.load_or_create(tmp_path)
    assert secrets.digest("phone", typed) == secrets.digest("phone", "13800138000")
    assert mask_phone(typed) == "138****8000"


@pytest.mark.parametrize("number", ["+86 755 1234 5678", "8613800138", "860013800138000"])
def test_other_numbers_starting_with_86_keep_their_digits(tmp_path: Path, number: str) -> None:
    secrets = Secrets.load_or_create(tmp_path)
    digits = re.sub(r"\D", "", number)
    assert secrets.digest("phone", number) == secrets.digest("phone", digits)
    assert secrets.digest("phone", number) != secrets.digest("phone", digits[2:])


def test_an_id_number_is_not_taken_for_a_phone(tmp_path: Path) -> None:
    secrets = Secrets.load_or_create(tmp_path)
    assert secrets.digest("id_number", "8613800138000") != secrets.digest("id_number", "13800138000")


def test_a_new_data_dir_gets_a_whole_key_readable_by_the_gateway_only(tmp_path: Path) -> None:
    first = Secrets.load_or_create(tmp_path)
    key = tmp_path / "secret.key"
    assert len(key.read_bytes()) == KEY_BYTES and key.stat().st_mode & 0o077 == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret.key"]  # no temporary file left
    again = Secrets.load_or_create(tmp_path)
    assert again.digest("phone", "13800138000") == first.digest("phone", "13800138000")


@pytest.mark.parametrize("size", [0, 16, KEY_BYTES - 1])
def test_a_short_key_stops_the_gateway_and_is_left_for_a_restore(tmp_path: Path, size: int) -> None:
    key = tmp_path / "secret.key"
    key.write_bytes(b"k" * size)
    with pytest.raises(StorageError) as err:
        Secrets.load_or_create(tmp_path)
    assert f"holds {size} bytes" in str(err.value)
    assert "restore secret.key from a backup" in err.value.fix
    assert key.read_bytes() == b"k" * size  # never made anew: the stored hashes would stop matching


def test_a_key_whose_writing_fails_leaves_no_empty_file_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As a power cut between making the file and writing it: the next start must find no key
    # (and make one) rather than an empty one.
    def power_cut(size: int) -> bytes:
        raise OSError("power cut")

    with monkeypatch.context() as m:
        m.setattr("gateway.privacy.os.urandom", power_cut)
        with pytest.raises(StorageError):  # said in one line, without a traceback
            Secrets.load_or_create(tmp_path)
    assert list(tmp_path.iterdir()) == []
    Secrets.load_or_create(tmp_path)
    assert len((tmp_path / "secret.key").read_bytes()) == KEY_BYTES
