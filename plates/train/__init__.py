"""Training the recognizer (needs the `train` extra: torch, onnx). Never imported at run time."""
