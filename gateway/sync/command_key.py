"""The key that signs remote commands: what check-config says of it, and what the gateway reads.

Both read it through one loader and judge it by the same rules (docs/mqtt.md, Keys), so a key
that check-config passes is one the gateway takes.
"""

from __future__ import annotations

import logging
import stat
from pathlib import Path

from gateway.config.service_user import SERVICE_USER, readable_fix
from gateway.fault_log import FaultLog

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
    loaded = _load(path)
    unusable = _unusable(path, loaded)
    if unusable is not None:
        log.error("%s", unusable)
    return _key(loaded)


class CommandKey:
    """The key as the gateway reads it: for each command, so that a file replaced takes effect at
    once. A fault is said once (at the start, or when first met), again only when it changes (another
    fault, the file written again), and its end once at INFO: the forged commands of a broker ACL
    left open, refused in their hundreds, must not write a line each (docs/mqtt.md, Remote
    commands)."""

    def __init__(self, path: Path):
        self.path = path
        self._fault = FaultLog(log)  # the fault last said: its text and its file's mtime

    def warn_at_start(self) -> None:
        """What check-config would say, or else that the gateway's own user may not read the key."""
        loaded = _load(self.path)
        problem = _problem(self.path, loaded)
        unusable = _unusable(self.path, loaded)
        if problem is not None:
            log.warning("%s", problem)
        elif unusable is not None:
            log.error("%s", unusable)
        if unusable is not None:
            self._fault.failing = (unusable, _mtime(self.path))

    def read(self) -> bytes | None:
        """The key, or None when remote commands must be refused."""
        loaded = _load(self.path)
        unusable = _unusable(self.path, loaded)
        if unusable is not None:
            self._say(unusable)
            return None
        key = _key(loaded)
        if key is not None:
            self._fault.ended(
                "the command key %s is usable: remote commands are verified with it again", self.path
            )
        return key

    def _say(self, unusable: str) -> None:
        self._fault.failed((unusable, _mtime(self.path)), "%s", unusable)


def make_key_command(path: Path) -> str:
    """A shell line that makes the key as the service can read it: owned by its user, mode 600.

    check-config runs before the service's first start, when systemd's StateDirectory has not
    made the data folder yet (`useradd --system` makes no home), so the line makes the folder
    too, as StateDirectoryMode would. A folder already there is left as it is: it may be one
    of root's, such as /etc/estate-gateway. A key written by root's shell (`> path`) would be
    root's and unreadable to the service, so `install` writes it with its owner and mode."""
    owner = f"-o {SERVICE_USER} -g {SERVICE_USER}"
    folder = "" if _folder_there(path.parent) else f"sudo install -d {owner} -m 750 {path.parent} && "
    return f"{folder}{_MAKE} | sudo install {owner} -m 600 /dev/stdin {path}"


def _folder_there(folder: Path) -> bool:
    try:
        return folder.is_dir()
    except OSError:  # this user may not look; it is there for someone
        return True


def _own_command(path: Path) -> str:
    """A shell line that gives a key already there to the service's user, readable by it only."""
    return readable_fix(path, secret=True)


def _problem(path: Path, loaded: _Loaded) -> str | None:
    make = f"{make_key_command(path)}; and give the central server the same key (docs/mqtt.md, Keys)"
    if isinstance(loaded, FileNotFoundError):
        return f"no command key at {path}: every remote command will be refused (no_key); make one: {make}"
    if isinstance(loaded, UnicodeDecodeError):
        return f"the command key in {path} is not text: every remote command will be refused (no_key); {make}"
    if isinstance(loaded, PermissionError):
        return None  # this user may not read it; the gateway's own user may
    if isinstance(loaded, OSError):
        return (
            f"the command key {path} cannot be read ({loaded.strerror}): every remote command will be "
            f"refused (no_key); make it a file (remove what is there first): {make}"
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
            f"reads it can sign commands that open the gates; fix: {_own_command(path)}"
        )
    return None


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


def _key(loaded: _Loaded) -> bytes | None:
    if isinstance(loaded, tuple) and len(loaded[0]) >= MIN_KEY_CHARS:
        return loaded[0].encode()
    return None


def _unusable(path: Path, loaded: _Loaded) -> str | None:
    """Why remote commands are refused with this key, with the fix; None when it is usable."""
    if isinstance(loaded, FileNotFoundError):
        # Removed after the start too (an rm, a restore without it): said as the start says it.
        return _problem(path, loaded)
    if isinstance(loaded, PermissionError):
        # Made or restored as root: the key is right, only its owner is not (a new key would
        # have to be given to the central server again).
        return (
            f"cannot read the command key {path}: {loaded.strerror}; remote commands are refused "
            f"fix: {_own_command(path)}"
        )
    if isinstance(loaded, OSError):
        return (
            f"cannot read the command key {path}: {loaded.strerror}; remote commands are refused "
            f"fix: make it a file the gateway's user may read: {make_key_command(path)}"
        )
    if isinstance(loaded, UnicodeDecodeError):
        return (
            f"the command key in {path} is not text; remote commands are refused fix: make it with "
            f"{make_key_command(path)} (the base64 is what makes it text)"
        )
    if isinstance(loaded, ValueError):
        raise loaded
    text, _ = loaded
    if len(text) < MIN_KEY_CHARS:
        return (
            f"the command key in {path} is shorter than {MIN_KEY_CHARS} characters; remote commands "
            f"are refused fix: put a long random key there, e.g. {make_key_command(path)}"
        )
    return None
