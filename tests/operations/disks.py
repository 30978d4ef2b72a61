"""Small filesystems of a test's own (tmpfs): one to fill up, one nobody can write into."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def tmpfs(path: Path, *, size_kb: int, read_only: bool = False) -> Iterator[Path]:
    """`path` mounted as a tmpfs of `size_kb`, unmounted afterwards (mount needs root, as in CI)."""
    path.mkdir()
    options = f"{'ro,' if read_only else ''}size={size_kb}k"
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        reason = f"a filesystem of the test's own needs mount (root): {mounted.stderr.strip()}"
        if os.environ.get("CI", "") not in ("", "0", "false"):
            pytest.fail(reason)  # CI runs as root: there, a test that cannot run is a failure
        pytest.skip(reason)
    try:
        yield path
    finally:
        subprocess.run(["umount", "--lazy", str(path)], check=True)


def fill(disk: Path) -> Path:
    """Write zeros until the filesystem is full; the filler file to delete afterwards."""
    filler = disk / "filler"
    subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=4k"], capture_output=True)
    return filler
