"""`gateway run` parses every command's arguments as it starts, the benches' too. A bench that
imported NumPy or OpenCV at its top (gateway bench clips did, for a day) made every box carry
them, about 12 MB more at start on a site without cameras (gateway bench decide's rss_mb)."""

from __future__ import annotations

import subprocess
import sys


def test_the_command_line_parser_loads_neither_numpy_nor_opencv() -> None:
    code = (
        "import sys\n"
        "from gateway.cli import _parser\n"
        "_parser()\n"
        "print(sorted(m for m in ('numpy', 'cv2', 'onnxruntime') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
