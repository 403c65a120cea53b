"""Personal data (PIPL): phone and ID numbers are kept masked plus a keyed hash, never in clear."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import tempfile
from pathlib import Path

from gateway.errors import StorageError
from gateway.typed import typed

_NOT_DIGIT_OR_X = re.compile(r"[^0-9Xx]")
KEY_BYTES = 32


class Secrets:
    """The site's secret key, made on first start in the data directory, readable by the gateway only."""

    def __init__(self, key: bytes):
        self._key = key

    @classmethod
    def load_or_create(cls, data_dir: Path) -> Secrets:
        path = data_dir / "secret.key"
        try:
            if not path.exists():
                _create_key(path)
            key = path.read_bytes()
        except OSError as exc:
            raise StorageError(
                f"cannot read or make the site key {path}: {exc.strerror}",
                fix=f"give it to the gateway's user: chown estate-gateway:estate-gateway {path}; "
                f"chmod 600 {path} (a key restored or made as root is not readable by the service)",
            ) from exc
        if len(key) < KEY_BYTES:
            # Never made anew here: every phone and ID hash stored with the old key would stop
            # matching, and returning visitors and phone searches would find no one.
            raise StorageError(
                f"{path} holds {len(key)} bytes, a site key has {KEY_BYTES}: it is damaged or was cut "
                "short, and phone and ID numbers cannot be hashed with it",
                fix=f"restore secret.key from a backup of {data_dir} (same owner, mode 600); only on "
                "a gateway that has stored no phone or ID numbers yet, delete it and start again to "
                "make a new key",
            )
        return cls(key)

    def digest(self, purpose: str, value: str) -> str:
        """A keyed hash: a returning visitor is found by it, the number cannot be read back."""
        number = normalize_phone(value) if purpose == "phone" else normalize_number(value)
        return self._hash(purpose, number)

    def phone_digests(self, phone: str) -> list[str]:
        """Every keyed hash `phone` may be stored under, to look it up with (IN): this version's,
        and for a mainland mobile the two an older gateway stored when the number was typed with
        its country code (it hashed every digit: +86 138 0013 8000 as 8613800138000). Those rows
        stay as they are: the number to hash them anew is not stored."""
        number = normalize_phone(phone)
        forms = [number, f"86{number}", f"0086{number}"] if _mainland_mobile(number) else [number]
        return [self._hash("phone", form) for form in forms]

    def _hash(self, purpose: str, number: str) -> str:
        return hmac.new(self._key, f"{purpose}:{number}".encode(), hashlib.sha256).hexdigest()


def _create_key(path: Path) -> None:
    """Write a new key whole or not at all: a power cut must not leave an empty secret.key."""
    fd, tmp = tempfile.mkstemp(prefix=".secret.key.", dir=path.parent)  # mode 600
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(os.urandom(KEY_BYTES))
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)  # unlike a rename, never replaces a key another process just made
        except FileExistsError:
            pass  # `gateway import` and the service started together: the first key stands
        except OSError:
            os.replace(tmp, path)  # a file system without hard links
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the new name survives a power cut too
    finally:
        os.close(dir_fd)


def normalize_number(value: str) -> str:
    """The digits (and an ID number's X) of a phone or ID number, those typed full-width (１３８,
    Ｘ, as a Chinese input method's 全角 mode types them) as their ASCII selves: left out, the
    number's hash was that of a few digits or none, and the ID number was refused as too short."""
    return _NOT_DIGIT_OR_X.sub("", typed(value)).upper()


def normalize_phone(value: str) -> str:
    """The digits of a phone number; a mainland mobile typed with its country code (+86, 0086 or 86)
    loses it, so +86 138 0013 8000 and 13800138000 are the same person."""
    digits = normalize_number(value)
    for prefix in ("0086", "86"):
        rest = digits.removeprefix(prefix)
        if rest != digits and _mainland_mobile(rest):
            return rest
    return digits


def _mainland_mobile(digits: str) -> bool:
    return len(digits) == 11 and digits.startswith("1")


def mask_phone(phone: str) -> str:
    """138****5678 for a mobile (11 digits or more); a shorter number, a landline such as 8765 4321,
    keeps only its last four digits and never more than it hides: ****4321, ****210."""
    digits = normalize_phone(phone)
    if len(digits) >= 11:
        return f"{digits[:3]}****{digits[-4:]}"
    shown = min(4, max(len(digits) - 4, 0))
    return "*" * (len(digits) - shown) + digits[len(digits) - shown :]


def mask_id_number(id_number: str) -> str:
    digits = normalize_number(id_number)
    return "*" * max(len(digits) - 4, 0) + digits[-4:]


def mask_name(name: str) -> str:
    """张三丰 -> 张**; shown to guards on lane events. An invisible character pasted before the
    name (U+200B from WeChat) is no surname: kept, the mask showed ** and hid 张."""
    name = typed(name)
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
