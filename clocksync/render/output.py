"""Writing a rendered report to a file: checked before the run that fills it, written whole after.

``check_writable`` runs before ``apply`` sends anything, so a report path that cannot be written
stops the run while nothing has changed. ``write_text`` writes through a temporary file in the
target folder and a rename, so a reader never sees half a report.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from clocksync.errors import OutputError


def check_writable(path: Path, what: str) -> None:
    """Raise OutputError unless a file can be written at ``path`` (its folder is made if missing).

    ``what`` names the file in the message (e.g. ``--report``).
    """
    if path.is_dir():
        raise OutputError(f"{what} {path}: is a folder; name a file")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"):
            pass
    except OSError as exc:
        raise OutputError(f"{what} {path}: cannot be written ({exc.strerror or exc})") from None


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically. Raises OSError."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
