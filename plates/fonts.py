"""Find the fonts the plate renderer needs in the usual system places.

Chinese plate glyphs need a CJK font; Debian ships them as fonts-wqy-zenhei (small) or
fonts-noto-cjk. Latin letters and digits come from DejaVu (fonts-dejavu-core, on every Debian)
or Liberation Narrow, which is closer to the narrow plate typeface.
"""

from __future__ import annotations

import logging
import os
from functools import cache
from pathlib import Path

log = logging.getLogger(__name__)

_HERE = Path(__file__).parent / "fonts"
_SYSTEM_DIRS = (
    Path("/usr/share/fonts"),
    Path("/usr/local/share/fonts"),
    Path.home() / ".local/share/fonts",
    Path("/System/Library/Fonts"),
    Path("/Library/Fonts"),
)
CJK_NAMES = (
    "wqy-zenhei.ttc",
    "wqy-microhei.ttc",
    "NotoSansCJK-Bold.ttc",
    "NotoSansCJK-Regular.ttc",
    "NotoSansCJKsc-Bold.otf",
    "SourceHanSansSC-Bold.otf",
    "PingFang.ttc",
)
LATIN_NAMES = (
    "LiberationSansNarrow-Bold.ttf",
    "DejaVuSansCondensed-Bold.ttf",
    "LiberationSans-Bold.ttf",
    "DejaVuSans-Bold.ttf",
)

# Lighter faces: the new-energy plates' typeface is much thinner than the blue plates'.
LATIN_THIN_NAMES = (
    "LiberationSansNarrow-Regular.ttf",
    "DejaVuSansCondensed.ttf",
)


class FontsMissing(RuntimeError):
    """No usable font: the message says which package to install."""


def _search_dirs() -> list[Path]:
    extra = os.environ.get("PLATES_FONT_DIR")
    dirs = [Path(extra)] if extra else []
    return dirs + [_HERE, *_SYSTEM_DIRS]


@cache
def _find(names: tuple[str, ...]) -> list[Path]:
    found: dict[str, Path] = {}
    for base in _search_dirs():
        if not base.is_dir():
            continue
        for path in base.rglob("*"):
            if path.name in names and path.name not in found:
                found[path.name] = path
    return [found[n] for n in names if n in found]


def _only(fonts: list[Path]) -> list[Path]:
    """PLATES_FONTS=name,name keeps only those font files (tests pin the fonts CI installs)."""
    names = {n.strip() for n in os.environ.get("PLATES_FONTS", "").split(",") if n.strip()}
    return [f for f in fonts if f.name in names] if names else fonts


def cjk_fonts() -> list[Path]:
    fonts = _only(_find(CJK_NAMES))
    if not fonts:
        raise FontsMissing(
            "no Chinese font found for rendering plates; install one, e.g. "
            "`apt-get install fonts-wqy-zenhei` (or fonts-noto-cjk), or point PLATES_FONT_DIR "
            "at a folder holding wqy-zenhei.ttc"
        )
    return fonts


@cache
def chinese_face(font: Path) -> int:
    """The index of a font collection's Simplified Chinese face (0 where it has none).

    Noto Sans CJK's .ttc holds the Japanese face first, and it draws 沪, 渝, 粤, 豫 and others in
    their Japanese forms; plates use the mainland's.
    """
    from PIL import ImageFont  # Pillow is only needed to render

    if font.suffix.lower() != ".ttc":
        return 0
    index = 0
    while True:
        try:
            family = ImageFont.truetype(str(font), 12, index=index).getname()[0] or ""
        except OSError:
            return 0
        if family.endswith(" SC"):
            return index
        index += 1


def latin_fonts() -> list[Path]:
    fonts = _only(_find(LATIN_NAMES))
    if not fonts:
        raise FontsMissing(
            "no Latin font found for rendering plates; install `fonts-dejavu-core` or "
            "`fonts-liberation`"
        )
    return fonts


def latin_thin_fonts() -> list[Path]:
    """Light Latin faces where installed; the regular ones otherwise."""
    return _only(_find(LATIN_THIN_NAMES)) or latin_fonts()


def rendering_fonts() -> list[str]:
    """The font files plates are drawn from here: figures measured on rendered plates depend on
    them (`plates eval-admissions` prints them)."""
    names = {f.name for f in [*cjk_fonts(), *latin_fonts(), *latin_thin_fonts()]}
    return sorted(names)
