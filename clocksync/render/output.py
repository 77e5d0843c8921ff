"""A report's file, checked before the run that fills it (written by ``files.write_private`` after).

``check_writable`` runs before ``apply`` sends anything, so a report path that cannot be written
stops the run while nothing has changed.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from clocksync.errors import FileError
from clocksync.files import FILE_MODE, private_folder


def check_writable(path: Path) -> None:
    """Raise FileError unless a file can be written at ``path``: its folder exists or can be made
    (0700), and a file can be created in it. Nothing is left behind but the folder."""
    if path.is_dir():
        raise FileError(f"{path}: is a folder, not a file")
    folder = private_folder(path.parent)
    probe = folder / f".{path.name}.{secrets.token_hex(6)}.probe"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, FILE_MODE)
    except OSError as exc:
        raise FileError(f"{path}: cannot write in {folder}: {(exc.strerror or type(exc).__name__).lower()}") from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)
