"""The key that signs remote commands: what check-config says of it, and what the gateway reads.

Both read it through one loader and judge it by the same rules (docs/mqtt.md, Keys), so a key
that check-config passes is one the gateway takes.
"""

from __future__ import annotations

import logging
import stat
from pathlib import Path

log = logging.getLogger(__name__)

MIN_KEY_CHARS = 16  # docs/mqtt.md, Keys
_MAKE = "head -c 32 /dev/urandom | base64"

_Loaded = tuple[str, int] | OSError | ValueError


def _load(path: Path) -> _Loaded:
    """The key's text and its file's mode, or why they could not be read."""
    try:
        # utf-8-sig: a key edited on Windows starts with a byte-order mark no signature matches.
        return path.read_text(encoding="utf-8-sig").strip(), path.stat().st_mode
    except (OSError, ValueError) as exc:
        return exc


def key_problem(path: Path) -> str | None:
    """What is wrong with the key that signs remote commands, with the fix (said by check-config
    and at start); None when it is fine, or when this user may not read it (the gateway's may)."""
    return _problem(path, _load(path))


def read_key(path: Path) -> bytes | None:
    """The key, or None (logged, with the fix) when remote commands must be refused."""
    return _usable(path, _load(path))


def warn_at_start(path: Path) -> None:
    """Said once as the gateway starts: what check-config would say, or else that the gateway's
    own user may not read the key."""
    loaded = _load(path)
    problem = _problem(path, loaded)
    if problem is not None:
        log.warning("%s", problem)
    else:
        _usable(path, loaded)


def _problem(path: Path, loaded: _Loaded) -> str | None:
    make = (
        f"{_MAKE} > {path}; chmod 600 {path}; and give the central server the same key (docs/mqtt.md, Keys)"
    )
    if isinstance(loaded, FileNotFoundError):
        return f"no command key at {path}: every remote command will be refused (no_key); make one: {make}"
    if isinstance(loaded, UnicodeDecodeError):
        return f"the command key in {path} is not text: every remote command will be refused (no_key); {make}"
    if isinstance(loaded, PermissionError):
        return None  # this user may not read it; the gateway's own user may
    if isinstance(loaded, OSError):
        return (
            f"the command key {path} cannot be read ({loaded.strerror}): every remote command will be "
            f"refused (no_key); make it a file: {make}"
        )
    if isinstance(loaded, ValueError):
        return None
    text, mode = loaded
    if len(text) < MIN_KEY_CHARS:
        return (
            f"the command key in {path} is {len(text)} characters, fewer than {MIN_KEY_CHARS}: every "
            f"remote command will be refused (no_key); make a longer one: {make}"
        )
    if mode & 0o077:
        return (
            f"the command key {path} is open to others than its owner ({stat.filemode(mode)}): whoever "
            f"reads it can sign commands that open the gates; fix: chmod 600 {path}, owned by the "
            "gateway's user"
        )
    return None


def _usable(path: Path, loaded: _Loaded) -> bytes | None:
    if isinstance(loaded, FileNotFoundError):
        return None
    if isinstance(loaded, OSError):
        log.error(
            "cannot read the command key %s: %s; remote commands are refused fix: make it a file "
            "the gateway's user may read, e.g. %s > %s; chmod 600 %s",
            path,
            loaded.strerror,
            _MAKE,
            path,
            path,
        )
        return None
    if isinstance(loaded, UnicodeDecodeError):
        log.error(
            "the command key in %s is not text; remote commands are refused fix: make it with %s "
            "(the base64 is what makes it text)",
            path,
            _MAKE,
        )
        return None
    if isinstance(loaded, ValueError):
        raise loaded
    text, _ = loaded
    if len(text) < MIN_KEY_CHARS:
        log.error(
            "the command key in %s is shorter than %d characters; remote commands are refused "
            "fix: put a long random key there, e.g. %s",
            path,
            MIN_KEY_CHARS,
            _MAKE,
        )
        return None
    return text.encode()
