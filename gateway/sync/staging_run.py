"""Staging a received snapshot or delta: a small one on the directory's thread, a large one by a
child process, whose Python work cannot hold up the decision worker (the GIL).

Staging ends with a verdict on the data (staged, or refused: `incomplete`, `invalid`), or with a
StagingFault: a child killed by a signal (`systemctl stop` signals every process of the service,
the OOM killer on a small box picks the largest) or failing on the disk. A fault says nothing of
the data: the directory keeps it and stages it again, and never tells the centre it was refused.
"""

from __future__ import annotations

import json
import logging
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import asdict
from typing import Any

from gateway.sync.files import damaged, write_fix
from gateway.sync.staging import StageJob, read_meta, stage

log = logging.getLogger(__name__)

# Up to this many entries are staged on the directory's thread; more go to a child process.
IN_PROCESS_ENTRIES = 2000

_STOPPED = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP}
_MEMORY_FIX = (
    "free memory on the box, or add swap (`journalctl -k | grep -i oom` shows whether the kernel "
    "ended it for want of memory)"
)


class StagingFault(Exception):
    """Staging ended with no verdict on the data; `fix` says what to do."""

    def __init__(self, message: str, fix: str):
        super().__init__(message)
        self.fix = fix


def run_stage(job: StageJob, entries: int, staging: sqlite3.Connection) -> dict[str, Any]:
    """Stage job's received data; its verdict (read_meta). Raises StagingFault."""
    if entries <= IN_PROCESS_ENTRIES:
        try:
            return stage(job)
        except (OSError, sqlite3.Error) as exc:
            if damaged(exc):
                raise  # the directory sets the damaged file aside and asks for a snapshot
            raise StagingFault(str(exc), write_fix(exc, job.staging, job.main_db)) from exc
        except MemoryError as exc:
            raise StagingFault("out of memory", _MEMORY_FIX) from exc
    raw = {k: (str(v) if k in ("staging", "main_db", "data_dir") else v) for k, v in asdict(job).items()}
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "gateway.sync.staging", json.dumps(raw)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        if done.stderr.strip():
            log.debug("the staging process's error output: %s", done.stderr[-2000:])
        raise child_fault(done.returncode, done.stderr)
    took = time.perf_counter() - began
    log.info("%s %d staged in %.2f s (%d entries)", job.kind, job.version, took, entries)
    meta = read_meta(staging)
    assert meta is not None
    return meta


def child_fault(returncode: int, stderr: str) -> StagingFault:
    """What a staging child's exit status says, and what to do about it."""
    if returncode < 0:
        try:
            sig = signal.Signals(-returncode)
        except ValueError:
            return StagingFault(f"the staging process was killed by signal {-returncode}", _MEMORY_FIX)
        if sig in _STOPPED:
            fix = "none if the gateway was being stopped; else find what sends it (another service's stop)"
            return StagingFault(f"the staging process was stopped ({sig.name})", fix)
        return StagingFault(f"the staging process was killed ({sig.name})", _MEMORY_FIX)
    last = next((line.strip() for line in reversed(stderr.splitlines()) if line.strip()), "no message")
    if "MemoryError" in last:
        return StagingFault("the staging process ran out of memory", _MEMORY_FIX)
    fix = (
        "free disk space if the disk is full; otherwise restart the gateway, and report this error "
        "with the log"
    )
    return StagingFault(f"the staging process failed (exit status {returncode}): {last[-300:]}", fix)
