"""A CSV file given to `gateway import` or `gateway import-inside` that cannot be opened: not there,
a folder, or one the command's user may not read (a file in the installer's home, mode 700, with the
command run as `sudo -u estate-gateway`). It is said of the file, with the system's reason and a fix
about its path or permissions: nothing in it was read, so it is no bad row to correct (exit 66)."""

from __future__ import annotations

import os
import pwd
from pathlib import Path

from gateway.errors import InputUnreadable


class NotOpened(InputUnreadable):
    """One file that cannot be opened, and what to do about it."""

    def __init__(self, path: Path, exc: OSError):
        self.path = path
        super().__init__(f"cannot open {path}: {exc.strerror or exc}", fix=_fix(path, exc))


def not_opened(files: list[NotOpened], nothing: str) -> InputUnreadable:
    """The files of a run that cannot be opened, in one error: `nothing` says that the run wrote nothing."""
    if len(files) == 1:
        return InputUnreadable(f"{files[0].message}; {nothing}", fix=files[0].fix)
    said = [f"{f.message}; fix: {f.fix}" for f in files]
    return InputUnreadable(
        "\n".join([f"cannot open {len(files)} files; {nothing}:", *said]),
        fix="as each file's line says, then import the files again",
    )


def _fix(path: Path, exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return f"check the file's name and folder (ls -l {path}){_relative(path)}"
    if isinstance(exc, IsADirectoryError):
        return f"give the CSV files in the folder ({path}/...), not the folder"
    if isinstance(exc, PermissionError):
        user = _user()
        copy = Path("/tmp") / path.name
        # The register holds ID and phone numbers: a copy for this user alone, removed after.
        return (
            f"this command runs as {user}, who may not read it (a home folder of mode 700 is closed to "
            f"`sudo -u {user}`): copy it where {user} can read it, sudo install -o {user} -m 600 {path} "
            f"{copy}, import {copy}, then delete the copy"
        )
    return f"check the file (ls -l {path}), then import it again"


def _relative(path: Path) -> str:
    if path.is_absolute():
        return ""
    try:
        return f"; a relative path is from the folder the command is run in, here {Path.cwd()}"
    except OSError:  # that folder was deleted under the shell
        return "; a relative path is from the folder the command is run in"


def _user() -> str:
    uid = os.geteuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:  # a uid with no account (a container's): install -o takes the number
        return str(uid)
