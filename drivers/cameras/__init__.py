"""Cameras through OpenCV: a capture thread per camera keeping the newest frame, and snapshots."""
