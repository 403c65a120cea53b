"""QR codes for passes, as inline SVG (no image library, no internet)."""

from __future__ import annotations

import io

import segno


def qr_svg(data: str, scale: int = 6) -> str:
    # Error correction M survives a creased or smudged printout; the code stays small.
    qr = segno.make_qr(data, error="m")
    out = io.BytesIO()
    qr.save(out, kind="svg", scale=scale, border=2, xmldecl=False, svgns=True, title="QR", unit="px")
    return out.getvalue().decode()
