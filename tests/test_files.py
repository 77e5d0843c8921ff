"""Private, symlink-safe files (finding 2, symlinks; finding 7, world-readable data; disk full).

Every file clocksync writes (plans, run folders, audit CSVs, reports, exports, the apply lock) is
0600 and every folder it creates 0700, whatever the umask; a symlink planted where a file goes is
never written through; each failure on these paths is one line naming the path.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from clocksync.apply.lock import lock_path, workspace_lock
from clocksync.errors import ApplyLocked, FileError
from clocksync.files import Appender, private_folder, write_private
from tests.conftest import EmulatorHarness, run_cli

CONFIRM = ("--confirm", "I UNDERSTAND")


@pytest.fixture
def umask_zero() -> Iterator[None]:
    """The loosest umask there is: files would be 0666 and folders 0777 if clocksync left it to the umask."""
    previous = os.umask(0)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def written_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name not in ("users.csv", "config.yaml") or "export" in p.parts]


def test_everything_an_apply_writes_is_owner_only_whatever_the_umask(
        harness: EmulatorHarness, workdir: Path, umask_zero: None) -> None:
    assert run_cli(harness, "plan", "users.csv", "--out", "plans/plan.json").exit_code == 0
    applied = run_cli(harness, "apply", "plans/plan.json", "--log-dir", "audit", "--report", "reports/apply.html",
                      *CONFIRM)
    assert applied.exit_code == 0, applied.output
    exported = run_cli(harness, "export", "export")
    assert exported.exit_code == 0, exported.output
    files = [p for p in written_under(workdir) if p.is_file()]
    folders = [p for p in written_under(workdir) if p.is_dir()]
    names = {p.relative_to(workdir).as_posix() for p in files}
    assert {"plans/plan.json", "audit/sync_success_log.csv", "audit/sync_error_log.csv", "reports/apply.html",
            "export/users.csv", "export/config.yaml"} <= names
    assert any(n.endswith("/before.json") for n in names) and any(n.endswith("/outcomes.jsonl") for n in names)
    assert {p.relative_to(workdir).as_posix(): oct(mode(p)) for p in files if mode(p) != 0o600} == {}
    assert {p.relative_to(workdir).as_posix(): oct(mode(p)) for p in folders if mode(p) != 0o700} == {}
    assert not [p for p in files if p.name.endswith(".tmp")], "no temporary file is left behind"


def test_plan_out_replaces_a_planted_symlink_and_ignores_a_planted_tmp(
        harness: EmulatorHarness, workdir: Path) -> None:
    victim = workdir / "victim.txt"
    victim.write_text("precious\n")
    os.symlink(victim, "plan.json")
    os.symlink(victim, "plan.json.tmp")  # where the tool used to write first
    result = run_cli(harness, "plan", "users.csv", "--out", "plan.json")
    assert result.exit_code == 0, result.output
    assert victim.read_text() == "precious\n"
    assert not Path("plan.json").is_symlink() and Path("plan.json").read_text().startswith("{")
    assert mode(Path("plan.json")) == 0o600


def test_export_force_does_not_write_through_a_symlink_in_the_folder(harness: EmulatorHarness, workdir: Path) -> None:
    victim = workdir / "victim.txt"
    victim.write_text("precious\n")
    Path("out").mkdir()
    os.symlink(victim, "out/users.csv")
    result = run_cli(harness, "export", "out", "--force")
    assert result.exit_code == 0, result.output
    assert victim.read_text() == "precious\n"
    assert not Path("out/users.csv").is_symlink() and "NTID email" in Path("out/users.csv").read_text()


@pytest.mark.parametrize("planted", ["sync_success_log.csv", "sync_error_log.csv"])
def test_a_symlinked_audit_csv_is_refused_before_any_write(harness: EmulatorHarness, workdir: Path,
                                                          planted: str) -> None:
    victim = workdir / "victim.txt"
    victim.write_text("precious\n")
    assert run_cli(harness, "plan", "users.csv").exit_code == 0
    Path("audit").mkdir()
    os.symlink(victim, Path("audit") / planted)
    result = run_cli(harness, "apply", "plans/plan.json", "--log-dir", "audit", *CONFIRM)
    assert result.exit_code == 1
    assert victim.read_text() == "precious\n"
    assert "FileError" in result.output and "symbolic link" in result.output and "Traceback" not in result.output
    assert harness.state.writes == 0, "the audit trail is opened before the first write"


def test_a_symlinked_run_folder_is_refused(harness: EmulatorHarness, workdir: Path) -> None:
    elsewhere = workdir / "elsewhere"
    elsewhere.mkdir()
    assert run_cli(harness, "plan", "users.csv").exit_code == 0
    os.symlink(elsewhere, ".clocksync")
    result = run_cli(harness, "apply", "plans/plan.json", *CONFIRM)
    assert result.exit_code == 1 and "FileError" in result.output and ".clocksync" in result.output
    assert list(elsewhere.iterdir()) == [] and harness.state.writes == 0


# ---------------------------------------------------------------------- the apply lock


def test_the_lock_lives_in_a_folder_of_the_users_own(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CLOCKSYNC_LOCK_DIR")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    path = lock_path("ws1")
    assert path.parent == tmp_path / "clocksync" and mode(path.parent) == 0o700
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    path = lock_path("ws1")
    assert path.parent == tmp_path / f"clocksync-{os.geteuid()}" and mode(path.parent) == 0o700


def test_a_lock_folder_planted_by_someone_else_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CLOCKSYNC_LOCK_DIR")
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    elsewhere = tmp_path / "attacker"
    elsewhere.mkdir()
    os.symlink(elsewhere, tmp_path / f"clocksync-{os.geteuid()}")
    with pytest.raises(FileError, match="symbolic link"), workspace_lock("ws1"):
        pass
    assert list(elsewhere.iterdir()) == []


def test_a_symlink_at_the_lock_path_is_never_truncated(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    lock = tmp_path / "ws.lock"
    os.symlink(victim, lock)
    with pytest.raises(FileError) as info, workspace_lock("ws", lock):
        pass
    assert victim.read_text() == "precious\n"
    message = str(info.value)
    assert "\n" not in message and "symbolic link" in message and "nothing was applied" in message


def test_a_lock_of_another_user_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lock = tmp_path / "ws.lock"
    lock.write_text("\x1b[2J\x1b]0;pwned\x07")
    monkeypatch.setattr("clocksync.files.current_uid", lambda: os.geteuid() + 1)  # the file is now someone else's
    with pytest.raises(FileError) as info, workspace_lock("ws", lock):
        pass
    assert "another user" in str(info.value) and "\n" not in str(info.value) and "\x1b" not in str(info.value)


@pytest.mark.parametrize("planted", ["folder", "fifo"])
def test_a_lock_path_that_is_not_a_file_is_one_line(tmp_path: Path, planted: str) -> None:
    lock = tmp_path / "ws.lock"
    if planted == "folder":
        lock.mkdir()
    else:
        os.mkfifo(lock)  # a FIFO would block a plain open forever
    with pytest.raises(FileError) as info, workspace_lock("ws", lock):
        pass
    assert "\n" not in str(info.value)


def test_a_held_lock_never_shows_its_bytes(tmp_path: Path) -> None:
    lock = tmp_path / "ws.lock"
    with workspace_lock("ws", lock):
        with open(lock, "r+b") as handle:
            handle.write(b"\x1b[9A\x1b[J 31337")  # what a hostile holder could write there
        with pytest.raises(ApplyLocked) as info, workspace_lock("ws", lock):
            pass
    assert "pid unknown" in str(info.value) and "\x1b" not in str(info.value)


def test_apply_with_an_unusable_lock_is_one_line_and_writes_nothing(
        harness: EmulatorHarness, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOCKSYNC_LOCK_DIR", str(workdir / "locks"))
    assert run_cli(harness, "plan", "users.csv").exit_code == 0
    os.mkdir(lock_path(harness.workspace_id))
    result = run_cli(harness, "apply", "plans/plan.json", *CONFIRM)
    assert result.exit_code == 1 and "FileError" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert harness.state.writes == 0


# ---------------------------------------------------------------------- the module itself


def test_write_private_on_a_full_disk_is_one_line_and_leaves_no_temporary(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    target = tmp_path / "plan.json"
    target.write_text("old\n")
    monkeypatch.setattr("clocksync.files.os.fsync", full)
    with pytest.raises(FileError, match="no space left") as info:
        write_private(target, "new\n")
    assert "\n" not in str(info.value) and str(target) in str(info.value)
    assert target.read_text() == "old\n", "the old file stays whole"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]


def test_plan_on_a_full_disk_is_one_line(harness: EmulatorHarness, workdir: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("clocksync.files.os.fsync", full)
    result = run_cli(harness, "plan", "users.csv")
    assert result.exit_code == 1
    assert "FileError: plans/plan.json: cannot write: no space left on the device" in result.output
    assert "Traceback" not in result.output


def test_write_private_refuses_a_folder_in_the_files_place(tmp_path: Path) -> None:
    (tmp_path / "plan.json").mkdir()
    with pytest.raises(FileError, match="plan.json"):
        write_private(tmp_path / "plan.json", "x")
    (tmp_path / "file").write_text("x")
    with pytest.raises(FileError, match="is a file, not a folder"):
        private_folder(tmp_path / "file")


def test_an_appender_narrows_an_old_world_readable_file(tmp_path: Path) -> None:
    path = tmp_path / "sync_success_log.csv"
    path.write_text("time,run\n")
    os.chmod(path, 0o644)
    appender = Appender(path)
    appender.append("x,y\n")
    appender.close()
    assert mode(path) == 0o600 and path.read_text() == "time,run\nx,y\n"


def test_a_full_disk_during_an_apply_stops_it_in_one_line(harness: EmulatorHarness, workdir: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The audit trail is written as each action ends: when it cannot be (ENOSPC), the apply stops
    with one line rather than write on without a record."""
    assert run_cli(harness, "plan", "users.csv").exit_code == 0
    real_write = os.write
    rows = []

    def fills_up(fd: int, data: bytes) -> int:
        if os.path.basename(os.readlink(f"/proc/self/fd/{fd}")) == "sync_success_log.csv":
            rows.append(data)
            if len(rows) > 3:  # the header and a few rows fit
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    with monkeypatch.context() as patched:
        patched.setattr("clocksync.files.os.write", fills_up)
        result = run_cli(harness, "apply", "plans/plan.json", *CONFIRM)
    assert result.exit_code == 1 and "Traceback" not in result.output
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("FileError: sync_success_log.csv: cannot append to: no space left on the device; the "
                           "apply stopped") and "apply the same plan again" in last
    # Room again: the same plan finishes the rest.
    again = run_cli(harness, "apply", "plans/plan.json", *CONFIRM)
    assert again.exit_code == 0 and "Resumed an interrupted apply" in again.output, again.output
    assert run_cli(harness, "plan", "users.csv", "--detailed-exitcode", "--out", "p2.json").exit_code == 0
