"""Personal data (PIPL): phone and ID numbers are kept masked plus a keyed hash, never in clear."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from pathlib import Path

_NOT_DIGIT_OR_X = re.compile(r"[^0-9Xx]")


class Secrets:
    """The site's secret key, made on first start in the data directory, readable by the gateway only."""

    def __init__(self, key: bytes):
        self._key = key

    @classmethod
    def load_or_create(cls, data_dir: Path) -> Secrets:
        path = data_dir / "secret.key"
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(os.urandom(32))
                f.flush()
                os.fsync(f.fileno())
        return cls(path.read_bytes())

    def digest(self, purpose: str, value: str) -> str:
        """A keyed hash: a returning visitor is found by it, the number cannot be read back."""
        msg = f"{purpose}:{normalize_number(value)}".encode()
        return hmac.new(self._key, msg, hashlib.sha256).hexdigest()


def normalize_number(value: str) -> str:
    return _NOT_DIGIT_OR_X.sub("", value).upper()


def mask_phone(phone: str) -> str:
    digits = normalize_number(phone)
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}****{digits[-4:]}"


def mask_id_number(id_number: str) -> str:
    digits = normalize_number(id_number)
    return "*" * max(len(digits) - 4, 0) + digits[-4:]


def mask_name(name: str) -> str:
    """张三丰 -> 张**; shown to guards on lane events."""
    name = name.strip()
    if not name:
        return ""
    return name[0] + "*" * (len(name) - 1) if len(name) > 1 else name


def mask_card(card: str) -> str:
    """Card numbers in logs and on screens keep their last four characters."""
    return "*" * max(len(card) - 4, 0) + card[-4:]


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_number_problem(text: str) -> str | None:
    """Why `text` is not a resident identity card number (GB 11643: 18 characters with a check
    character), or None. The check character catches most typing mistakes at the booth."""
    number = normalize_number(text)
    if len(number) != 18 or not number[:17].isdigit():
        return "an ID card number has 18 characters: 17 digits, then a digit or X"
    expected = _ID_CHECK[sum(int(d) * w for d, w in zip(number, _ID_WEIGHTS, strict=False)) % 11]
    if number[17] != expected:
        return "the ID card number's last character does not match (a digit mistyped?)"
    return None
