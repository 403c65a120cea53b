"""`gateway bench clips` (docs/benchmarks.md): its figures come from clips it really writes, and its
last line with --json is one JSON object naming each figure with its unit."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest

from gateway.cli import main as gateway_main


def test_bench_clips_prints_its_figures_as_json_and_keeps_the_clips_it_timed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["bench", "clips", "--frame-size", "640x360", "--seconds", "2", "--clips", "1"]
    assert gateway_main([*argv, "--fps", "5", "--work-dir", str(tmp_path), "--json"]) == 0
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(figures) == {
        "frame_keep_p50_ms",
        "frame_keep_p99_ms",
        "camera_core_percent",
        "kept_memory_kb",
        "clip_encode_s",
        "clip_kb",
        "clip_frames",
    }
    assert figures["clip_frames"] == 20
    (clip,) = tmp_path.glob("snapshots/*/*.webm")
    assert figures["clip_kb"] == round(clip.stat().st_size / 1024)
    cap = cv2.VideoCapture(str(clip))
    frames = 0
    while cap.read()[0]:
        frames += 1
    assert frames == 20


@pytest.mark.parametrize("bad", [["--fps", "0"], ["--seconds", "1"], ["--frame-size", "wide"]])
def test_bench_clips_refuses_a_bad_value_before_it_runs(bad: list[str]) -> None:
    with pytest.raises(SystemExit) as refused:
        gateway_main(["bench", "clips", *bad])
    assert refused.value.code == 2
