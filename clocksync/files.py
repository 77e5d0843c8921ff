"""Private, symlink-safe file writes: every file clocksync writes goes through here.

Plans, run folders, audit CSVs, reports and exports hold every employee's email, capacity and
custom fields, so they are readable by their owner only: files 0600, the folders clocksync creates
0700, whatever the umask (the mode is set on the open file, not left to the umask).

No write follows a symbolic link planted where a file goes:

- ``write_private`` writes a whole file atomically: a temporary file created exclusively
  (``O_CREAT | O_EXCL | O_NOFOLLOW``) under a random name in the target's own folder, then renamed
  over the target. A rename replaces a symlink at the target; it never writes through it, and a
  reader never sees half a file.
- ``open_private`` opens a file to append to or lock (audit CSVs and a run's outcome lines through
  ``Appender``, the apply lock) with ``O_NOFOLLOW``, and accepts only a regular file of the
  current user.
- ``private_folder`` creates a folder (and its missing parents) 0700; ``strict`` also refuses a
  folder that is a symlink or belongs to another user (the folders clocksync alone uses).

Every failure is a ``FileError`` naming the path and the reason in one line (disk full, a
symlink, a folder where a file goes, a file of another user), never an ``OSError`` traceback.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import secrets
import stat
from pathlib import Path

from clocksync.errors import FileError

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def current_uid() -> int:
    """The user files must belong to (a function, so a test can play another user)."""
    return os.geteuid()


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "is a symbolic link; clocksync does not write through symbolic links"
    if exc.errno == errno.ENOSPC:
        return "no space left on the device"
    if exc.errno == errno.EISDIR:
        return "is a folder, not a file"
    return (exc.strerror or type(exc).__name__).lower()


def _error(path: Path | str, what: str, exc: OSError) -> FileError:
    return FileError(f"{path}: cannot {what}: {_reason(exc)}")


def private_folder(path: Path, *, strict: bool = False) -> Path:
    """Make sure ``path`` is a folder; the folders created on the way are 0700.

    ``strict`` (folders only clocksync uses: run folders, the lock folder): the folder must not be
    a symlink and must belong to the current user; an existing one is narrowed to 0700.
    Raises FileError.
    """
    missing: list[Path] = []
    probe = path
    while not os.path.lexists(probe) and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, FOLDER_MODE)
            os.chmod(folder, FOLDER_MODE)  # the umask may have taken the owner's own bits
        except FileExistsError:
            pass  # made meanwhile by someone else: judged below like any existing folder
        except OSError as exc:
            raise _error(folder, "create the folder", exc) from None
    try:
        info = os.lstat(path)
    except OSError as exc:
        raise _error(path, "use the folder", exc) from None
    if strict:
        if stat.S_ISLNK(info.st_mode):
            raise FileError(f"{path}: is a symbolic link; clocksync keeps its own folders as real folders "
                            "(remove the link)")
        if info.st_uid != current_uid():
            raise FileError(f"{path}: belongs to another user (uid {info.st_uid}); clocksync uses only folders "
                            "of its own user here")
    elif stat.S_ISLNK(info.st_mode):
        info = os.stat(path)  # a folder the user named may be a link to a folder
    if not stat.S_ISDIR(info.st_mode):
        raise FileError(f"{path}: is a file, not a folder")
    if strict and stat.S_IMODE(info.st_mode) != FOLDER_MODE:
        try:
            os.chmod(path, FOLDER_MODE)
        except OSError as exc:
            raise _error(path, "make the folder private", exc) from None
    return path


def write_private(path: Path, data: str | bytes) -> None:
    """Write ``data`` to ``path`` atomically, readable by its owner only (0600). Raises FileError.

    The folder is created (0700) when missing. A symlink at ``path`` is replaced, not followed.
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    folder = path.parent
    private_folder(folder)
    try:
        folder_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        raise _error(folder, "open the folder", exc) from None
    try:
        temp, fd = _exclusive_temp(path, folder_fd)
        try:
            os.fchmod(fd, FILE_MODE)
            with os.fdopen(fd, "wb", closefd=True) as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, path.name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
        except OSError as exc:
            with contextlib.suppress(OSError):  # the failure being reported matters, not the cleanup
                os.unlink(temp, dir_fd=folder_fd)
            raise _error(path, "write", exc) from None
    finally:
        os.close(folder_fd)


def _exclusive_temp(path: Path, folder_fd: int) -> tuple[str, int]:
    """A new temporary file beside ``path``, created exclusively: never an existing file or link."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    for _ in range(20):
        temp = f".{path.name}.{secrets.token_hex(6)}.tmp"
        try:
            return temp, os.open(temp, flags, FILE_MODE, dir_fd=folder_fd)
        except FileExistsError:
            continue
        except OSError as exc:
            raise _error(path, "write", exc) from None
    raise FileError(f"{path}: cannot write: no free temporary name in {path.parent}")


def open_private(path: Path, flags: int, what: str = "open") -> int:
    """Open (creating it 0600 when missing) a regular file of the current user, never through a
    symlink; an existing file that others can read is narrowed to 0600. Returns the descriptor.

    ``flags`` are the access flags (``os.O_RDWR``, ``os.O_WRONLY | os.O_APPEND``). Raises FileError.
    """
    # O_NONBLOCK: a FIFO planted in the file's place fails at once instead of blocking the open.
    try:
        fd = os.open(path, flags | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, FILE_MODE)
    except OSError as exc:
        raise _error(path, what, exc) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileError(f"{path}: cannot {what}: not a regular file")
        if info.st_uid != current_uid():
            raise FileError(f"{path}: cannot {what}: it belongs to another user (uid {info.st_uid})")
        if stat.S_IMODE(info.st_mode) & 0o077:
            os.fchmod(fd, FILE_MODE)
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
    except FileError:
        os.close(fd)
        raise
    except OSError as exc:
        os.close(fd)
        raise _error(path, what, exc) from None
    return fd


class Appender:
    """Appends text to a private file (``open_private``), each ``append`` handed to the operating
    system at once (durable against a kill of this process). Raises FileError, one line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = open_private(path, os.O_WRONLY | os.O_APPEND, "append to")
        self.empty = os.fstat(self._fd).st_size == 0

    def append(self, text: str) -> None:
        if self._fd is None:
            raise FileError(f"{self.path}: cannot append: the file was closed")
        data = memoryview(text.encode("utf-8"))
        try:
            while data:
                data = data[os.write(self._fd, data):]
        except OSError as exc:
            raise _error(self.path, "append to", exc) from None
        self.empty = False

    @property
    def closed(self) -> bool:
        return self._fd is None

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def new_private_folder(path: Path) -> bool:
    """Create ``path`` as a new 0700 folder; False when it exists already. Raises FileError."""
    try:
        os.mkdir(path, FOLDER_MODE)
    except FileExistsError:
        return False
    except OSError as exc:
        raise _error(path, "create the folder", exc) from None
    try:
        os.chmod(path, FOLDER_MODE)
    except OSError as exc:
        raise _error(path, "make the folder private", exc) from None
    return True


__all__ = ["FILE_MODE", "FOLDER_MODE", "Appender", "current_uid", "new_private_folder", "open_private",
           "private_folder", "write_private"]


SYSTEM_TREES = ("/proc", "/sys", "/dev")  # files of the running system, never a user's input


def read_input(path: Path) -> bytes:
    """The bytes of an input file (a users file, a config), which must be a regular file outside
    the system's own trees (``/proc``, ``/sys``, ``/dev``).

    A symbolic link is followed, but not into those trees: a users file that is a link to
    ``/proc/self/environ`` would otherwise be read as the process environment, the API key in its
    header. A FIFO, device or folder is refused at once (opened without blocking).

    Raises OSError whose ``strerror`` says why in a few words (callers name the file).
    """
    real = os.path.realpath(path)
    if any(real == tree or real.startswith(tree + "/") for tree in SYSTEM_TREES):
        raise OSError(errno.EPERM, f"it is {real}, a file of the running system, not an input file")
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, f"not a regular file ({_file_type(info.st_mode)})")
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
        with os.fdopen(fd, "rb", closefd=False) as stream:
            return stream.read()
    finally:
        os.close(fd)


def _file_type(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a file"
