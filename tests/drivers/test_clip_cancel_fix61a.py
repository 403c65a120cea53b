"""Review 61a: a clip called off (its alarm was open already) and then dropped because the clip
writer was behind left its name among the called-off ones for good: one a clip, never pruned on a
box that runs for a year."""

from __future__ import annotations

import threading
from pathlib import Path

from drivers.cameras.clips import Clip, ClipWriter


def test_a_clip_called_off_then_dropped_is_forgotten(tmp_path: Path) -> None:
    writer = ClipWriter(tmp_path, lambda _device: None, max_pending=1)
    busy = threading.Event()
    writer._write = lambda clip: busy.wait(30)  # type: ignore[method-assign]  # one clip being written
    try:
        for name in ("busy.webm", "queued.webm"):  # the writer busy and its queue full
            writer.expect(name)
            writer.submit(Clip(name, "cam", 0.0, 5, [b"x"]))
        names = [f"snapshots/2026-01-01/c{i}.webm" for i in range(20)]
        for name in names:
            assert writer.expect(name)
            writer.cancel(name)
            writer.submit(Clip(name, "cam", 0.0, 5, [b"x"]))  # dropped: the writer is behind
    finally:
        busy.set()
        writer.close()
    assert not any(writer.pending(name) for name in names)
    assert writer._cancelled == set(), "called-off clips never written are still remembered"
