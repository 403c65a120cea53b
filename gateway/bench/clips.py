"""`gateway bench clips`: what event clips cost a camera (drivers/cameras/clips.py): the time to keep
one frame (scaled to 640 px, time burnt in, JPEG), the share of a core that takes at the clip's
frame rate, the memory its kept seconds hold, and the time and disk one clip takes to encode.

The frames are a synthetic lane (a textured road, a car-sized block driving through it) at the
camera's size: a real picture has more detail, so its JPEGs and clips are somewhat larger.
NumPy and OpenCV are imported when it runs: `gateway run` parses the bench commands too, and must
not carry them (~12 MB) on a site without cameras.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from drivers.cameras.clips import ClipRecorder, ClipSettings, ClipWriter
from drivers.cameras.frame import Frame
from drivers.health import DeviceHealth
from gateway.bench.common import at_least, frame_size, in_work_dir, percentile, report, rounded, work_folder

NAME = "snapshots/2026-01-01/000000-clip-forced_open-car-in-camera.webm"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--frame-size", type=frame_size, default="1920x1080", help="camera frame size, WxH")
    p.add_argument("--fps", type=at_least(1, 15), default=5, help="clip frames per second (clip_fps)")
    p.add_argument("--seconds", type=at_least(2, 60), default=10, help="seconds kept before and after")
    p.add_argument("--clips", type=at_least(1, 50), default=3, help="clips to encode")
    p.add_argument("--work-dir", type=work_folder, help="keep the clips written here")


def bench_clips(args: argparse.Namespace) -> int:
    return in_work_dir(args, "gateway-bench-clips-", _run)


class Lane:
    """A synthetic camera: a textured road with a block driving across it. Its frames are drawn
    before the timing starts, so that the figures are the clips' own."""

    def __init__(self, size: tuple[int, int], frames: int = 50):
        import cv2
        import numpy as np

        width, height = size
        rng = np.random.default_rng(7)
        texture = rng.integers(60, 160, (height // 8, width // 8, 3), dtype=np.uint8)
        road = cv2.resize(texture, (width, height), interpolation=cv2.INTER_CUBIC)
        self.images = []
        for i in range(frames):
            image = road.copy()
            x = i * width // frames
            cv2.rectangle(image, (x, height // 3), (x + width // 4, height * 2 // 3), (30, 30, 160), -1)
            self.images.append(image)
        self.seq = 0

    def latest(self) -> Frame:
        self.seq += 1
        return Frame(self.images[self.seq % len(self.images)], self.seq, time.monotonic(), time.time())


def _run(args: argparse.Namespace, work: Path) -> int:
    settings = ClipSettings(fps=args.fps, seconds=float(args.seconds))
    health = DeviceHealth("camera", "camera", "car-in", "opencv")
    writer = ClipWriter(work, {"camera": health}.get, max_pending=args.clips + 1)
    lane = Lane(args.frame_size)
    recorder = ClipRecorder("camera", lane.latest, writer, settings)
    recorder.sample(time.monotonic())  # the first: OpenCV's own start-up, once per process
    kept_ms = []
    for _ in range(settings.frames):  # the seconds a camera keeps, as its thread samples them
        started = time.perf_counter()
        recorder.sample(time.monotonic())
        kept_ms.append((time.perf_counter() - started) * 1000)
    kept_bytes = sum(len(jpeg) for _, jpeg in recorder._kept)  # noqa: SLF001  (the bench looks inside)
    encode_s, clip_bytes = [], []
    for i in range(args.clips):
        name = NAME.replace("000000", f"{i:06d}")
        recorder.record(name)
        asked = time.monotonic()
        for k in range(1, settings.frames + 1):  # the seconds after, at once: the last one ends it
            recorder.sample(asked + k / settings.fps)
        started = time.perf_counter()
        writer.flush()
        encode_s.append(time.perf_counter() - started)
        clip_bytes.append((work / name).stat().st_size)
    writer.close()
    p50 = percentile(kept_ms, 50) or 0.0
    figures = {
        "frame_keep_p50_ms": rounded(p50, 2),
        "frame_keep_p99_ms": rounded(percentile(kept_ms, 99), 2),
        "camera_core_percent": rounded(p50 * settings.fps / 10, 2),
        "kept_memory_kb": round(kept_bytes / 1024),
        "clip_encode_s": rounded(percentile(encode_s, 50), 2),
        "clip_kb": round((percentile([float(b) for b in clip_bytes], 50) or 0) / 1024),
        "clip_frames": 2 * settings.frames,
    }
    w, h = args.frame_size
    print(f"event clips: {w}x{h} camera, {settings.fps} fps, {args.seconds} s before and after")
    report(figures, args.json, [f"{health.counters['clips_written']} clips written in {work}"])
    return 0
