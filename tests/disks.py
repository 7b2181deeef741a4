"""Real disks for the fault tests: a tiny tmpfs, one filled to the last byte, and an ext4 that fails.

Each needs root (the tests run as root here and in CI) and skips, saying why, where the mount
cannot be made.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def tiny_tmpfs(path: Path, size: str) -> Iterator[Path]:
    path.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    if result.returncode != 0:
        pytest.skip(
            f"cannot mount a tmpfs here ({result.stderr.decode().strip() or 'not root'}); "
            "ENOSPC is covered by the simulated test"
        )
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill_to_the_last_byte(folder: Path) -> Path:
    """What a runaway log or a big download does to the closet's disk."""
    with open(folder / "filler", "wb") as filler, contextlib.suppress(OSError):
        while True:
            filler.write(b"\0" * 65536)
            filler.flush()
    return folder / "filler"


@contextlib.contextmanager
def ext4_that_fails(path: Path, size_mb: int = 16) -> Iterator[tuple[Path, Callable[[], None]]]:
    """An ext4 file system on a loop device, mounted ``errors=remount-ro`` at ``path``; the callable
    makes the kernel record an error on it, so it turns read-only under the files open on it.

    What an SD card does after an I/O error. ``mount -o remount,ro`` cannot stand in for it: the
    kernel refuses that ("busy") while a file is open for writing, and the closet's database is.
    """
    if shutil.which("mkfs.ext4") is None:
        pytest.skip("mkfs.ext4 is not installed: the read-only card needs an ext4 image")
    image = path.with_name(path.name + ".ext4")
    with open(image, "wb") as handle:
        handle.truncate(size_mb * 1024 * 1024)
    made = subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    path.mkdir()
    mounted = subprocess.run(
        ["mount", "-o", "loop,errors=remount-ro", str(image), str(path)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount an ext4 image here ({mounted.stderr.strip() or 'not root'}): no loop device")
    device = Path(
        subprocess.run(["findmnt", "-n", "-o", "SOURCE", str(path)], capture_output=True, text=True).stdout.strip()
    )
    trigger = Path("/sys/fs/ext4") / device.name / "trigger_fs_error"

    def fail() -> None:
        if not trigger.exists():
            pytest.skip(f"{trigger} is absent: this kernel cannot be told to fail the file system")
        trigger.write_text("the card failed (test)\n")
        options = subprocess.run(["findmnt", "-n", "-o", "OPTIONS", str(path)], capture_output=True, text=True)
        assert "emergency_ro" in options.stdout or options.stdout.startswith("ro"), options.stdout

    try:
        yield path, fail
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)
        image.unlink(missing_ok=True)
