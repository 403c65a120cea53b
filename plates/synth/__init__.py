"""The project's own plate generator: texts, rendering and the camera effects used for training."""
