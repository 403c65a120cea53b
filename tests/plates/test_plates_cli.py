"""The commands on fixture folders written by the tests."""

from __future__ import annotations

import json
import random
from pathlib import Path

import cv2
import numpy as np
import pytest
from plate_images import clean_crop

from plates.cli import main
from plates.evaluate import CropView, framed_loosely, turned
from plates.synth.scene import render_scene
from plates.synth.texts import PlateSpec

CROPS = [
    PlateSpec("皖A12345", "blue", 1, "standard"),
    PlateSpec("京AD12345", "green", 1, "new_energy_small"),
    PlateSpec("苏E5S1T8", "yellow", 1, "standard"),
]


def _fixture(folder: Path) -> None:
    rows = ["file,plate,kind"]
    for i, spec in enumerate(CROPS):
        cv2.imwrite(str(folder / f"c{i}.jpg"), clean_crop(spec, seed=i))
        rows.append(f"c{i}.jpg,{spec.text},crop")
    frame, _, spec, _ = render_scene(
        random.Random(1), 1280, 720, spec=PlateSpec("沪C55K88", "blue", 1, "standard"), plate_w=170
    )
    cv2.imwrite(str(folder / "s0.jpg"), frame)
    rows.append(f"s0.jpg,{spec.text},scene")
    (folder / "labels.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")


def test_eval_prints_figures_as_last_json_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _fixture(tmp_path)
    assert main(["eval", str(tmp_path), "--json"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    summary = json.loads(last)
    assert summary["crop_images"] == 3 and summary["scene_images"] == 1
    assert summary["crop_full_plate_accuracy_pct"] == 100.0
    assert summary["scene_full_plate_accuracy_pct"] == 100.0
    assert summary["scene_detection_recall_pct"] == 100.0
    assert summary["crop_char_accuracy_pct"] == 100.0


@pytest.mark.parametrize("backend", ["opencv", "onnxruntime"])
def test_eval_on_either_runtime_names_it_and_reads_alike(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], backend: str
) -> None:
    _fixture(tmp_path)
    assert main(["--backend", backend, "eval", str(tmp_path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["backend"] == backend
    assert summary["crop_full_plate_accuracy_pct"] == summary["scene_full_plate_accuracy_pct"] == 100.0


def test_eval_can_frame_the_crops_loosely_first(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _fixture(tmp_path)
    assert main(["eval", str(tmp_path), "--loose", "0.25", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["crop_full_plate_accuracy_pct"] == summary["scene_full_plate_accuracy_pct"] == 100.0
    assert main(["eval", str(tmp_path), "--loose", "-0.1"]) == 2
    assert "give a margin from 0 to 2" in capsys.readouterr().err


def test_a_loosely_framed_crop_has_the_plate_whole_in_its_middle() -> None:
    crop = clean_crop(CROPS[0], seed=0)
    h, w = crop.shape[:2]
    loose = framed_loosely(crop, 0.25, seed=3)
    mx, my = round(w * 0.25), round(h * 0.5)
    assert loose.shape == (h + 2 * my, w + 2 * mx, 3)
    assert (loose[my : my + h, mx : mx + w] == crop).all()
    assert (framed_loosely(crop, 0.25, seed=3) == loose).all()  # the same figures every run


def test_eval_can_show_the_crops_at_an_angle_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _fixture(tmp_path)
    assert main(["eval", str(tmp_path), "--loose", "0.1", "--slant", "0.2", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["crop_full_plate_accuracy_pct"] == summary["scene_full_plate_accuracy_pct"] == 100.0
    assert main(["eval", str(tmp_path), "--slant", "0.5"]) == 2
    assert "give a cut from 0 to below 0.5" in capsys.readouterr().err


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_a_crop_at_an_angle_has_one_end_shorter_by_the_cut_at_top_and_bottom(seed: int) -> None:
    crop = np.zeros((40, 120, 3), np.uint8)
    crop[:] = (0, 255, 0)  # a colour no paint has
    angled = framed_loosely(crop, 0.1, seed=seed, slant=0.2)
    mx, my = 12, 8
    assert angled.shape == (40 + 2 * my, 120 + 2 * mx, 3)
    plate = (angled == (0, 255, 0)).all(axis=2)
    ends = sorted(int(plate[:, x].sum()) for x in (mx + 1, mx + 118))
    assert abs(ends[0] - 0.6 * 40) <= 2 and abs(ends[1] - 40) <= 2
    assert not plate[:my].any() and not plate[my + 40 :].any()


def test_eval_can_scale_and_turn_the_crops_first(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _fixture(tmp_path)
    assert main(["eval", str(tmp_path), "--width", "160", "--loose", "0.1", "--rotate", "6", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["crop_full_plate_accuracy_pct"] == 100.0
    assert main(["eval", str(tmp_path), "--rotate", "60"]) == 2
    assert "give degrees from 0 to 45" in capsys.readouterr().err
    assert main(["eval", str(tmp_path), "--width", "5"]) == 2
    assert "give a plate width from 20 to 4000" in capsys.readouterr().err


@pytest.mark.parametrize("seed", [1, 2])
def test_a_turned_crop_leans_one_way_or_the_other_on_a_canvas_that_holds_it(seed: int) -> None:
    crop = np.zeros((40, 120, 3), np.uint8)
    crop[:, :60] = (0, 255, 0)  # left half green, right half red: which way it turned shows
    crop[:, 60:] = (0, 0, 255)
    out = turned(crop, 10.0, seed)
    h, w = out.shape[:2]
    assert abs(w - 125) <= 1 and abs(h - 60) <= 1  # 120 cos 10 + 40 sin 10, 120 sin 10 + 40 cos 10
    red = out[..., 2] > 128
    upper, lower = (int(np.argmax(red[y])) for y in (h // 2 - 10, h // 2 + 10))
    # Where green meets red: turned counter-clockwise (odd seed), that line leans left at the top.
    assert abs(upper - lower) >= 3
    assert (upper < lower) == bool(seed % 2)
    assert (turned(crop, 10.0, seed) == out).all()  # the same figures every run


def test_crops_are_scaled_then_framed_then_turned() -> None:
    crop = np.full((24, 94, 3), 200, np.uint8)
    view = CropView(width=188, loose=0.1, rotate=5)
    out = view.apply(crop, "c0.jpg")
    fh, fw = 48 + 2 * round(48 * 0.2), 188 + 2 * round(188 * 0.1)  # scaled to 188 x 48, framed
    t = np.radians(5)
    assert out.shape[:2] == (round(fw * np.sin(t) + fh * np.cos(t)), round(fw * np.cos(t) + fh * np.sin(t)))
    assert (CropView().apply(crop, "c0.jpg") == crop).all()


def _eval_with_label(folder: Path, label: str, capsys: pytest.CaptureFixture[str]) -> list[str]:
    """plates eval's output on the fixture, with the crop of 皖A12345 labelled label instead."""
    _fixture(folder)
    labels = folder / "labels.csv"
    labels.write_text(labels.read_text(encoding="utf-8").replace("皖A12345", label), encoding="utf-8")
    assert main(["eval", str(folder), "--json"]) == 0
    return capsys.readouterr().out.strip().splitlines()


def test_eval_counts_a_wrong_label(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = _eval_with_label(tmp_path, "皖A12346", capsys)
    summary = json.loads(out[-1])
    assert summary["crop_full_plate_accuracy_pct"] == pytest.approx(66.67)
    # 2 of 3 says little: the interval beside it spans most of the range.
    assert (
        summary["crop_full_plate_accuracy_low95_pct"],
        summary["crop_full_plate_accuracy_high95_pct"],
    ) == (20.77, 93.85)
    assert summary["crop_char_accuracy_pct"] == pytest.approx(95.45)  # 21 of 22 characters
    assert any("wrong: c0.jpg truth 皖A12346 read 皖A12345" in line for line in out)


def test_eval_splits_accuracy_by_province(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = _eval_with_label(tmp_path, "豫A12345", capsys)
    summary = json.loads(out[-1])
    assert summary["crop_province_accuracy_pct"] == pytest.approx(66.67)
    assert summary["scene_province_accuracy_pct"] == 100.0
    assert "crop by province: 京 100.0 % of 1, 苏 100.0 % of 1, 豫 0.0 % of 1" in out
    assert "scene by province: 沪 100.0 % of 1" in out


def test_eval_without_labels_says_what_to_do(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "labels.csv is missing" in err and "file,plate,kind" in err
    assert main(["eval", str(tmp_path / "nope")]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_eval_reports_unreadable_images_and_measures_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bad.jpg").write_bytes(b"not a jpeg")
    cv2.imwrite(str(tmp_path / "good.jpg"), clean_crop(CROPS[0], seed=3))
    labels = "file,plate,kind\nbad.jpg,皖A12345,crop\ngood.jpg,皖A12345,crop\n"
    (tmp_path / "labels.csv").write_text(labels, encoding="utf-8")
    assert main(["eval", str(tmp_path), "--json"]) == 0
    out = capsys.readouterr().out
    assert "unreadable:" in out
    figures = json.loads(out.strip().splitlines()[-1])
    assert figures["unreadable_images"] == 1 and figures["crop_images"] == 1


@pytest.mark.parametrize("labels", ["file,plate,kind\nnope.jpg,皖A12345,crop\n", "file,plate,kind\n"])
def test_eval_with_nothing_it_could_read_fails_and_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], labels: str
) -> None:
    """Every image missing (a wrong folder, renamed files) or no row at all: no figure is measured,
    so it is not a success a script could take for one."""
    (tmp_path / "labels.csv").write_text(labels, encoding="utf-8")
    assert main(["eval", str(tmp_path), "--json"]) == 2
    assert "nothing to measure" in capsys.readouterr().err


def test_eval_on_csv_files_not_in_utf8_says_how_to_save_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Excel on a Chinese Windows saves CSV in GBK: a one-line message, not a traceback."""
    cv2.imwrite(str(tmp_path / "a.jpg"), clean_crop(CROPS[0], seed=3))
    labels = "file,plate,kind\na.jpg,皖A12345,crop\n"
    (tmp_path / "labels.csv").write_bytes(labels.encode("gbk"))
    assert main(["eval", str(tmp_path)]) == 2
    assert "labels.csv is not UTF-8" in capsys.readouterr().err
    (tmp_path / "labels.csv").write_text(labels, encoding="utf-8")
    (tmp_path / "manifest.csv").write_bytes("file,colour\na.jpg,蓝\n".encode("gbk"))
    assert main(["eval", str(tmp_path)]) == 2
    assert "manifest.csv is not UTF-8" in capsys.readouterr().err


def test_eval_takes_a_manifest_without_a_file_column(tmp_path: Path) -> None:
    frame, _, spec, _ = render_scene(
        random.Random(1), 1280, 720, spec=PlateSpec("沪C55K88", "blue", 1, "standard"), plate_w=170
    )
    cv2.imwrite(str(tmp_path / "s.jpg"), frame)
    (tmp_path / "labels.csv").write_text(f"file,plate,kind\ns.jpg,{spec.text},scene\n", encoding="utf-8")
    (tmp_path / "manifest.csv").write_text('name,note\ns.jpg,"box 10,20,110,50"\n', encoding="utf-8")
    assert main(["eval", str(tmp_path)]) == 0


@pytest.mark.parametrize("shape", [(1, 1, 3), (1, 1000, 3), (5, 40, 3)])
def test_read_on_an_image_too_small_for_a_plate_finds_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], shape: tuple[int, int, int]
) -> None:
    path = tmp_path / "thin.png"
    cv2.imwrite(str(path), np.zeros(shape, np.uint8))
    assert main(["read", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["readings"] == []


@pytest.mark.parametrize(
    "argv",
    [
        ["eval-admissions", "--registered", "0"],
        ["eval-admissions", "--impostors", "-3"],
        ["bench", "--frames", "0"],
    ],
)
def test_a_count_under_one_is_refused_with_a_usage_line(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2 and "give 1 or more" in capsys.readouterr().err


def test_read_json_and_bad_paths(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "plate.png"
    cv2.imwrite(str(path), clean_crop(CROPS[0], seed=3))
    assert main(["read", str(path), "--json"]) == 0
    got = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert got["readings"][0]["text"] == "皖A12345"
    assert set(got["readings"][0]) >= {"text", "colour", "confidence", "box"}
    assert main(["read", str(tmp_path / "missing.jpg")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_synth_writes_images_and_labels(tmp_path: Path) -> None:
    assert main(["synth", str(tmp_path), "-n", "6", "--seed", "3"]) == 0
    lines = (tmp_path / "labels.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "file,plate,kind,colour" and len(lines) == 7
    assert all(cv2.imread(str(tmp_path / line.split(",")[0])) is not None for line in lines[1:])


def test_eval_admissions_reports_both_sides_of_the_lane_threshold(capsys: pytest.CaptureFixture[str]) -> None:
    """A small sample: registered cars get in on their first frame at the lane's threshold, and
    fewer at the strictest one, 1; impostors never exceed what was read."""
    small = ["eval-admissions", "--registered", "40", "--impostors", "40", "--seed", "3", "--json"]
    assert main(small) == 0
    lane_default = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert lane_default["registered_plates"] == 40 and lane_default["impostor_images"] == 40
    assert lane_default["registered_first_frame_admitted_pct"] > 50
    # The fonts these tests pin (conftest): the figures depend on the fonts plates are drawn in.
    assert lane_default["render_fonts"] == "DejaVuSansCondensed-Bold.ttf,wqy-zenhei.ttc"
    assert (
        lane_default["false_admissions_default_policy"]
        <= (lane_default["impostor_readings_equal_to_a_registered_plate"])
    )
    assert main([*small, "--decide-at", "1"]) == 0
    strictest = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    # Only readings the model is wholly sure of (1.0 in float32) decide on one frame.
    assert (
        strictest["registered_first_frame_admitted_pct"] < lane_default["registered_first_frame_admitted_pct"]
    )
    assert strictest["false_admissions_default_policy"] == 0
    # None of 40 let in still fits a rate of up to 8.8 % per unregistered car.
    assert strictest["false_admission_rate_high95_pct"] == pytest.approx(8.7622)
