"""A data directory on an SD card that fails in service: a small ext4 image on a loop device,
mounted errors=remount-ro (as Raspberry Pi OS's root). `Card.fail()` makes the kernel find the
filesystem damaged, as it does on the card's write errors: it aborts the journal and takes no
more writes ("Remounting filesystem read-only" in dmesg). Newer kernels mark it so only inside
ext4 (emergency_ro): the mount still reads rw, and only a write says EROFS.

Needs root and a loop device: where one cannot be made (a container without /dev/loop-control,
a user that is not root), `sd_card` skips the test and says why. Tried once per session, the way
the tests make one, so a machine where `losetup` is there but does not work is found too."""

from __future__ import annotations

import functools
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.ui.conftest import Site


class Card:
    def __init__(self, mount: Path, loop: str):
        self.mount = mount
        self.loop = loop

    @property
    def error_switch(self) -> Path:
        return Path(f"/sys/fs/ext4/{Path(self.loop).name}/trigger_fs_error")

    def fail(self) -> None:
        """The card's write errors: ext4 aborts its journal and refuses every write."""
        self.error_switch.write_text("card write error\n")


@functools.cache
def why_no_card() -> str | None:
    """Why this machine cannot make a failing card (None: it can): one made, mounted, and taken
    apart again, as sd_card does."""
    missing = [tool for tool in ("losetup", "mkfs.ext4", "mount", "umount") if shutil.which(tool) is None]
    if missing:
        return f"needs {', '.join(missing)} (util-linux, e2fsprogs)"
    try:
        with tempfile.TemporaryDirectory() as folder, _mounted(Path(folder) / "probe", 16) as card:
            if not card.error_switch.exists():
                return f"the kernel has no {card.error_switch} to fail the card with"
    except (OSError, subprocess.CalledProcessError) as exc:
        said = getattr(exc, "stderr", "") or exc
        return f"cannot make a loop device and mount it here (root, /dev/loop-control): {str(said).strip()}"
    return None


@contextmanager
def sd_card(where: Path, size_mb: int = 96) -> Iterator[Card]:
    """A card mounted at `where` (made), taken apart after the block: unmounted, its loop device
    detached, its image deleted, whatever the test did."""
    why = why_no_card()
    if why is not None:
        pytest.skip(why)
    with _mounted(where, size_mb) as card:
        yield card


@contextmanager
def _mounted(where: Path, size_mb: int) -> Iterator[Card]:
    image = where.with_name(where.name + ".img")
    _run("truncate", "-s", f"{size_mb}M", str(image))
    try:
        _run("mkfs.ext4", "-q", "-F", str(image))
        loop = _run("losetup", "-f", "--show", str(image))
        try:
            where.mkdir(parents=True, exist_ok=True)
            _run("mount", "-o", "errors=remount-ro", loop, str(where))
            try:
                shutil.rmtree(where / "lost+found", ignore_errors=True)
                yield Card(where, loop)
            finally:
                if subprocess.run(["umount", str(where)], capture_output=True).returncode != 0:
                    subprocess.run(["umount", "-l", str(where)], capture_output=True)
        finally:
            subprocess.run(["losetup", "-d", loop], capture_output=True)
    finally:
        image.unlink(missing_ok=True)


def _run(*command: str) -> str:
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()


@contextmanager
def site_on_card(where: Path, extra: str = "") -> Iterator[tuple[Site, Card]]:
    """A site (its config plus `extra`) whose data directory is on a card, stopped before the card
    is taken apart."""
    from tests.ui.conftest import make_config, start_site  # the site's pieces: only when one is made

    with sd_card(where) as card:
        site = start_site(make_config(card.mount, extra))
        try:
            yield site, card
        finally:
            site.gw.stop()
