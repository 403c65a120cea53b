"""Running a piece of a test as user nobody (the service's user, or an installer's sudo -u, who
may not read what root or another user left): in a forked child, so the test process stays root."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

NOBODY = 65534

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to become user nobody")


def as_nobody(work: Callable[[], str]) -> str:
    """What `work()` returns, run in a child process that is user nobody ("" if it raised)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read)
        try:
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            os.write(write, work().encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as fh:
        out = fh.read().decode()
    os.waitpid(pid, 0)
    return out
