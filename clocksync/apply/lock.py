"""One apply per workspace at a time: an advisory lock file (fcntl.flock).

The kernel drops the lock when the process dies, so a killed apply never leaves a stale lock.
The lock files live in a folder of the user's own: ``$XDG_RUNTIME_DIR/clocksync`` when the
session has one, else ``clocksync-<uid>`` in the system's temporary folder, created 0700 and
refused when it is a symlink or belongs to someone else. A lock in a folder every user can write
to would let another local user plant a symlink there (and have apply overwrite its target) or
hold the lock forever. ``CLOCKSYNC_LOCK_DIR`` moves the lock files (for a team that applies
from one machine and wants the lock shared, or test runs that must not see each other's
applies). The lock file is opened without following symlinks (``files.open_private``).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from clocksync.errors import ApplyLocked, FileError
from clocksync.files import open_private, private_folder


def lock_folder() -> Path:
    """Where the lock files live (created when missing). Raises FileError."""
    configured = os.environ.get("CLOCKSYNC_LOCK_DIR")
    if configured:
        return private_folder(Path(configured))
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime):
        return private_folder(Path(runtime) / "clocksync", strict=True)
    return private_folder(Path(tempfile.gettempdir()) / f"clocksync-{os.geteuid()}", strict=True)


def lock_path(workspace_id: str) -> Path:
    safe = "".join(c for c in workspace_id if c.isascii() and c.isalnum()) or "workspace"
    return lock_folder() / f"clocksync-apply-{safe}.lock"


def _holder(fd: int) -> str:
    """The pid the holder wrote, only if it is one: the file's bytes are never shown as they are."""
    text = os.pread(fd, 32, 0).decode("ascii", errors="replace").strip()
    return text if text.isdigit() and len(text) <= 10 else "unknown"


@contextlib.contextmanager
def workspace_lock(workspace_id: str, path: Path | None = None) -> Iterator[None]:
    """Hold the apply lock for ``workspace_id``; raise ApplyLocked if another apply holds it, and
    FileError (one line) if the lock file cannot be used (a symlink, another user's file)."""
    try:
        target = path or lock_path(workspace_id)
        fd = open_private(target, os.O_RDWR, "use the apply lock")
    except FileError as exc:
        raise FileError(f"{exc}; nothing was applied (CLOCKSYNC_LOCK_DIR moves the lock to a folder of your own)") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ApplyLocked(
                f"another apply is running on workspace {workspace_id} (pid {_holder(fd)}); "
                f"wait for it to finish (lock: {target})"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)
