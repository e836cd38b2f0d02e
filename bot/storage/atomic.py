"""Crash-safe file replacement with rotating backups, and a lock that works across processes.

`write_atomic` never leaves a half-written file at `path`: the new text goes to a temp file in the
same directory, is flushed to disk, and only then renamed over the old one. Before that, the old
file is hard-linked (or copied) to `path.1`, shifting older copies to `.2`, `.3`; at every moment
`path` is either the complete old version or the complete new one.
"""

import contextlib
import errno
import fcntl
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

TEMP_SUFFIX = ".tmp"

log = logging.getLogger(__name__)


class WriteFailed(Exception):
    """The file could not be written; the message says where and why, for a person to read."""


def _reason(exc: OSError) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied (is the data dir writable by the bot?)"
    if exc.errno == errno.EROFS:
        return "the data dir is on a read-only file system"
    if exc.errno == errno.ENOSPC:
        return "no space left on the device"
    return exc.strerror or str(exc)


def describe_os_error(action: str, path: Path, exc: OSError) -> WriteFailed:
    return WriteFailed(f"cannot {action} {path}: {_reason(exc)}")


def backup_path(path: Path, number: int) -> Path:
    return path.with_name(f"{path.name}.{number}")


def backup_paths(path: Path, count: int) -> list[Path]:
    """`path.1` (newest) to `path.<count>` (oldest)."""
    return [backup_path(path, n) for n in range(1, count + 1)]


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _snapshot(path: Path, target: Path) -> None:
    """Make `target` a copy of `path` without ever exposing a partial `target`."""
    temp = target.with_name(f".{target.name}{TEMP_SUFFIX}")
    with contextlib.suppress(FileNotFoundError):
        temp.unlink()
    try:
        os.link(path, temp)  # the old inode survives the coming os.replace of `path`
    except OSError:
        shutil.copy2(path, temp)
    os.replace(temp, target)


def rotate_backups(path: Path, count: int) -> None:
    """Shift `path.1`..`path.<count-1>` down one and snapshot `path` as `path.1`."""
    if count <= 0 or not path.is_file():  # nothing to keep, or a device or pipe that must not be copied
        return
    backups = backup_paths(path, count)
    for older, newer in zip(reversed(backups[1:]), reversed(backups[:-1]), strict=True):
        if newer.exists():
            os.replace(newer, older)
    _snapshot(path, backups[0])


def remove_stale_temps(directory: Path, name: str) -> None:
    """Delete temp files a killed writer left behind (call only while holding the file's lock)."""
    for leftover in directory.glob(f".{name}*{TEMP_SUFFIX}"):
        with contextlib.suppress(OSError):
            leftover.unlink()


def write_atomic(path: Path, data: bytes, *, backups: int = 3) -> None:
    """Replace `path` with `data` atomically and durably, keeping `backups` previous versions.

    Raises `WriteFailed` (and leaves `path` as it was) when anything goes wrong before the rename.
    After it the change is made: a directory that cannot be flushed (some network and FUSE mounts)
    only logs a durability warning. Callers that may race must hold `file_lock` for `path`.
    """
    directory = path.parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=directory)
    except OSError as exc:
        raise describe_os_error("write", path, exc) from None
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o644)
        rotate_backups(path, backups)
        os.replace(temp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise describe_os_error("write", path, exc) from None
    try:
        fsync_dir(directory)
    except OSError as exc:  # some network and FUSE mounts refuse it (EINVAL); the rename has happened
        log.warning("%s was replaced, but its directory could not be flushed to disk (%s): the change is made, "
                    "though a power cut right now could undo it", path, exc.strerror or exc)


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive `flock` on `path` (a lock file beside the data) until the block ends.

    Every open of the lock file is its own lock, so this excludes other threads as well as other
    processes. The kernel drops the lock if the holder dies, so a killed writer never wedges it.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise describe_os_error("write to", path.parent, exc) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
