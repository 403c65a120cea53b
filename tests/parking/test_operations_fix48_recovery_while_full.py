"""The operations look's 'works again' line (d4281b9) is said once the step runs again, not while the
disk is still full and the step only returned because records wait in memory for storage."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import pytest

from gateway.runtime.gateway import Gateway
from tests.parking.test_full_disk_patrol_round import M, _fill, _free, _ops, _wait
from tests.parking.test_patrol_review_s41 import CHECKPOINTS, NIGHT


def test_patrols_is_not_said_to_work_again_while_the_disk_is_still_full(
    make_gw: Callable[..., Gateway], caplog: pytest.LogCaptureFixture
) -> None:
    """The SD card fills up; the look that judges the 22:00 round (not walked) cannot write it:
    'operations step patrols failed (will retry)'. The guard then taps a checkpoint (the tap waits in
    memory) and the next look judges nothing, the disk still full. The journal then says 'operations
    step patrols works again', which the installer reads as the disk problem solved; it should say
    nothing until the step really runs again."""
    gw = make_gw(extra=CHECKPOINTS)
    clock = {"now": NIGHT - 2 * 60 * M}
    gw.now = lambda: clock["now"]  # type: ignore[method-assign]
    gw.worker.start()
    caplog.set_level(logging.INFO, logger="gateway.parking.operations")
    try:
        # the looks follow the test's clock: on the machine's own monotonic clock the first look
        # saw the wall clock stepped by 2.8 hours, and a box up for more than a day (as CI's was)
        # paused the patrols for a day, never to fail or work again
        o = _ops(gw, NIGHT - 2 * 60 * M, monotonic=lambda: clock["now"].timestamp())
        clock["now"] = NIGHT + 50 * M
        _fill(gw)
        o.tick(NIGHT + 50 * M)  # the round is overdue: judging it needs a write, the disk is full
        said = [r.getMessage() for r in caplog.records if "step patrols" in r.getMessage()]
        # said once, with why and what to do (the disk is full: free room)
        assert len(said) == 1 and said[0].startswith("operations step patrols failed (will retry"), said
        assert "fix=free disk space" in said[0], said
        clock["now"] = NIGHT + 52 * M
        gw._emitter("door", "cp-a")("card", "0A0B0C0D0E", 1.0)  # a tap: waits in memory
        _wait(lambda: gw._waiting.waiting() == 1)
        time.sleep(1.1)
        gw.on_worker(lambda c: None).result(60)
        o.tick(NIGHT + 53 * M)  # the disk is still full
        still_full = gw._waiting.waiting() == 1
        said = [r.getMessage() for r in caplog.records if "step patrols" in r.getMessage()]
        assert still_full
        assert "operations step patrols works again" not in said, (
            f"the journal says the patrol step works again while the disk is still full and the tap "
            f"still waits in memory: {said}"
        )
        _free(gw)  # the installer frees room: the tap is written, the round judged, and it is said
        o.tick(NIGHT + 55 * M)
        said = [r.getMessage() for r in caplog.records if "step patrols" in r.getMessage()]
        assert said[-1] == "operations step patrols works again", said
        assert said.count("operations step patrols works again") == 1, said
    finally:
        gw.worker.stop()
