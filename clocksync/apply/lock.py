"""One apply per workspace at a time on this machine: an advisory lock file (fcntl.flock).

The kernel drops the lock when the process dies, so a killed apply never leaves a stale lock.
The lock files live in the system's temporary folder, shared by every user of the machine;
``CLOCKSYNC_LOCK_DIR`` moves them (test runs that must not see each other's applies use it).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from clocksync.errors import ApplyLocked


def lock_path(workspace_id: str) -> Path:
    safe = "".join(c for c in workspace_id if c.isalnum()) or "workspace"
    folder = Path(os.environ.get("CLOCKSYNC_LOCK_DIR") or tempfile.gettempdir())
    return folder / f"clocksync-apply-{safe}.lock"


@contextlib.contextmanager
def workspace_lock(workspace_id: str, path: Path | None = None) -> Iterator[None]:
    """Hold the apply lock for ``workspace_id``; raise ApplyLocked if another apply holds it."""
    target = path or lock_path(workspace_id)
    fd = os.open(target, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip()
            raise ApplyLocked(
                f"another apply is running on workspace {workspace_id} (pid {holder or '?'}); "
                f"wait for it to finish (lock: {target})"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)
