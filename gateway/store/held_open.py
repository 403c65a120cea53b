"""Whether another process has the SQLite database open: the running gateway service, of any
version. database.open_database asks before a command (not the service's start) upgrades it."""

from __future__ import annotations

import fcntl
import os
import struct
from pathlib import Path

# struct flock (fcntl(2)): l_type, l_whence, l_start, l_len, l_pid, laid out as C does (native
# alignment); the kernel may write padding after it, which the spare bytes take.
_FLOCK = "hhqqi"
_SPARE = bytes(16)


def held_by(path: Path) -> int | None:
    """The id of another process that holds a lock on the database file `path` (0 where it lies
    outside this process's pid namespace); None where none does. In WAL mode, the gateway's in every
    version, each SQLite connection holds a shared lock on the file for as long as it is open, and
    the operating system lets it go when the process ends: no pid file to go stale.

    The file is opened and closed here, and closing it drops every POSIX lock this process holds on
    it, SQLite's among them: call it with none of this process's own connections to it open (they
    are not seen either: a process's locks never conflict with its own)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # not there, or not to be read: nothing known of its holders
        return None
    try:
        query = struct.pack(_FLOCK, fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0) + _SPARE
        answer = fcntl.fcntl(fd, fcntl.F_GETLK, query)
    except OSError:
        return None
    finally:
        os.close(fd)
    kind, _, _, _, pid = struct.unpack_from(_FLOCK, answer)
    return None if kind == fcntl.F_UNLCK else pid


def process_named(pid: int) -> str:
    """`process 1234 (gateway run -c /etc/estate-gateway/site.toml)`, as far as /proc tells it."""
    if pid <= 0:
        return "a process of another container"
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().rstrip(b"\0").split(b"\0")
    except OSError:
        return f"process {pid}"
    words = [os.fsdecode(a) for a in argv]
    # From the gateway's own name on (its interpreter's path says nothing).
    start = next((i for i, w in enumerate(words) if Path(w).name == "gateway"), 0)
    command = " ".join(" ".join([Path(words[start]).name, *words[start + 1 :]]).split()) if words else ""
    return f"process {pid} ({command[:120]})" if command else f"process {pid}"
