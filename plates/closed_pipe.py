"""A command line whose reader has gone (`plates read photos/*.jpg --json | head -1`) stops quietly.

Python ignores SIGPIPE, so writing to a pipe whose reader has closed it raises BrokenPipeError: a
traceback and exit 1, or, for output still in stdout's buffer at exit, "Exception ignored ...
BrokenPipeError" and exit 120; a log line written to stdout prints "--- Logging error ---" and a
traceback instead. The `plates` and `gateway` command lines both run their command through
`run_to_stdout`, and the gateway's log handler asks `reader_left` (plates imports nothing of the
gateway; the gateway uses plates).
"""

from __future__ import annotations

import os
import select
import stat
import sys
from collections.abc import Callable

# 128 + SIGPIPE: what a shell reports for a command a closed pipe stopped (`yes | head -1`), so
# that a script with `set -o pipefail` sees what it sees of other tools, and that the output was
# not all read (`plates read` stops: the images after are not read).
EXIT_READER_GONE = 141

_stdout_discarded = False  # set once stdout points at the null device


def run_to_stdout(command: Callable[[], int]) -> int:
    """command's exit status, its output flushed; EXIT_READER_GONE, with nothing printed, when
    the reader of stdout has gone. A broken pipe that is not stdout's (a socket) still raises."""
    try:
        try:
            status = command()
        finally:
            sys.stdout.flush()  # here, where the error can be handled, not at exit
    except BrokenPipeError:
        if not reader_left():
            raise
        return EXIT_READER_GONE
    return EXIT_READER_GONE if _stdout_discarded else status  # a log line met the closed pipe


def reader_left() -> bool:
    """In the handling of an error: whether it is that the reader of stdout has gone; if so,
    stdout is pointed at the null device, for Python flushes what is left in its buffer at exit
    (and a log handler writes the next line), which would raise again."""
    global _stdout_discarded
    if not isinstance(sys.exc_info()[1], BrokenPipeError) or not _stdout_reader_gone():
        return False
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    finally:
        os.close(devnull)
    _stdout_discarded = True
    return True


def _stdout_reader_gone() -> bool:
    """Whether stdout is a pipe whose reading end is closed (poll says POLLERR on Linux). Not a
    socket: the service's stdout is journald's, and its lines are not to go quietly."""
    try:
        fd = sys.stdout.fileno()
        if not stat.S_ISFIFO(os.fstat(fd).st_mode):
            return False
    except (AttributeError, ValueError, OSError):  # replaced by a test's capture, or closed
        return False
    if not hasattr(select, "poll"):  # Windows: no poll, and stdout the likeliest pipe
        return True
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    return any(events & select.POLLERR for _, events in poller.poll(0))
