"""`plates quantize`: the model with 8-bit integer convolutions reads plates as the float one."""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper
from plate_images import SPECS, clean_crop

from plates.cli import main
from plates.model import DEFAULT_MODEL
from plates.recognizer import Recognizer


def _float_copy(quantized: Path, out: Path) -> None:
    """The float network the shipped int8 model was made from, as `plates soup` exports one:
    each weight dequantized, each activation's quantize-dequantize pair dropped. (The quantizer
    folds a ReLU into the quantizing of its input to uint8 from zero; it comes back as a ReLU.)"""
    model = onnx.load(str(quantized))
    graph = model.graph
    weights = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    floats, nodes, passthrough = [], [], {}
    for node in graph.node:
        if node.op_type == "DequantizeLinear" and node.input[0] in weights:
            q, scale = weights[node.input[0]], weights[node.input[1]]
            zero = weights[node.input[2]] if len(node.input) > 2 else np.zeros_like(scale)
            axis = next((a.i for a in node.attribute if a.name == "axis"), 1)
            shape = [-1 if d == axis else 1 for d in range(q.ndim)] if scale.ndim else [1]
            real = (q.astype(np.float32) - zero.reshape(shape)) * scale.reshape(shape)
            floats.append(numpy_helper.from_array(real.astype(np.float32), node.output[0]))
        elif node.op_type == "QuantizeLinear" and not weights[node.input[2]].any():
            nodes.append(helper.make_node("Relu", node.input[:1], node.output[:1]))
        elif node.op_type in ("QuantizeLinear", "DequantizeLinear"):
            passthrough[node.output[0]] = passthrough.get(node.input[0], node.input[0])
        else:
            nodes.append(node)
    for node in nodes:
        node.input[:] = [passthrough.get(name, name) for name in node.input]
    used = {name for node in nodes for name in node.input}
    floats += [i for i in graph.initializer if i.name in used]  # weights left float
    plain = helper.make_graph(nodes, "plate_rec_float", graph.input, graph.output, floats)
    onnx.save(helper.make_model(plain, opset_imports=model.opset_import,
                                ir_version=model.ir_version), str(out))


@pytest.fixture(scope="module")
def float_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("float") / "plate_rec_float.onnx"
    _float_copy(DEFAULT_MODEL, path)
    return path


def _crops_folder(folder: Path) -> Path:
    folder.mkdir()
    rows = ["file,plate,kind"]
    for i, spec in enumerate(SPECS):
        cv2.imwrite(str(folder / f"c{i}.png"), clean_crop(spec, seed=20 + i))
        rows.append(f"c{i}.png,{spec.text},crop")
    (folder / "labels.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder


def test_the_quantized_model_reads_plates_as_the_float_one_does(
        float_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "int8.onnx"
    code = main(["quantize", str(float_model), "--out", str(out),
                 "--real", str(_crops_folder(tmp_path / "real")), "--crops", str(len(SPECS))])
    assert code == 0
    assert out.stat().st_size < 0.4 * float_model.stat().st_size
    crops = [clean_crop(spec, seed=40 + i, px_per_mm=0.6) for i, spec in enumerate(SPECS)]
    want = [Recognizer(float_model, backend="opencv").read_crop(c) for c in crops]
    assert [w.text for w in want if w] == [s.text for s in SPECS]
    for backend in ("opencv", "onnxruntime"):
        got = [Recognizer(out, backend=backend).read_crop(c) for c in crops]
        assert [g.text for g in got if g] == [s.text for s in SPECS]
        for g, w in zip(got, want, strict=True):
            assert g is not None and w is not None and abs(g.confidence - w.confidence) < 0.02


def test_quantize_says_what_to_give(float_model: Path, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "int8.onnx"
    assert main(["quantize", str(tmp_path / "none.onnx"), "--out", str(out),
                 "--real", str(tmp_path)]) == 2
    assert "none.onnx not found; give the float model" in capsys.readouterr().err
    assert main(["quantize", str(float_model), "--out", str(out), "--real", str(tmp_path)]) == 2
    assert "labels.csv is missing" in capsys.readouterr().err
    with pytest.raises(SystemExit) as refused:  # a usage error, as every count under 1 is
        main(["quantize", str(float_model), "--out", str(out), "--real", str(tmp_path), "--crops", "0"])
    assert refused.value.code == 2
    assert "--crops: 0: give 1 or more" in capsys.readouterr().err
    assert not out.exists()


def test_quantize_without_the_train_extra_says_what_to_install(
        float_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime.quantization", None)  # as without the extra
    out = tmp_path / "int8.onnx"
    assert main(["quantize", str(float_model), "--out", str(out),
                 "--real", str(_crops_folder(tmp_path / "real")), "--crops", "1"]) == 2
    assert "pip install -e '.[train]'" in capsys.readouterr().err
    assert not out.exists()
