"""Output folders written all-or-nothing.

``check_output_dir(path)`` refuses, before anything runs, a folder that is a regular file, sits under one, or
cannot be written. ``staged_run(path)`` takes a lock beside the folder (a second run into the same folder is
refused with an InputError naming the running process; the lock file ``.<name>.lock`` stays beside it), yields a staging folder beside it, and when the block
succeeds puts the staging folder in place of the old one in one step (Linux ``renameat2(RENAME_EXCHANGE)``;
elsewhere two renames), then removes the old run. If the block fails or the process is killed, the old run
stays as it was and the staging folder is removed (or, after a kill, left under a hidden name and removed by
the next run). So the folder always holds a complete old run or a complete new one.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from tipcausal.core.errors import InputError

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
STAGING_PREFIX = ".staging-"


def check_output_dir(path: str | Path, what: str = "output folder") -> Path:
    """``path`` as a Path if it can be the output folder: a directory or absent, under a writable directory."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise InputError(f"{path}: the {what} is a file, not a folder; choose another --out")
    parent = path
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise InputError(f"{path}: the {what} cannot be created: {parent} is a file, not a folder")
    target = path if path.exists() else parent
    if not os.access(target, os.W_OK | os.X_OK):
        raise InputError(f"{path}: the {what} is not writable ({target})")
    return path


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux); False where the system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EPERM):  # file system without exchange
        return False
    raise OSError(err, os.strerror(err), str(a))


def _put_in_place(staging: Path, target: Path) -> None:
    if not target.exists():
        os.replace(staging, target)
        return
    if _exchange(staging, target):
        shutil.rmtree(staging)  # now holds the old run
        return
    old = target.with_name(f".old-{target.name}-{os.getpid()}")
    os.replace(target, old)
    os.replace(staging, target)
    shutil.rmtree(old)


def _lock(target: Path) -> int:
    lock_path = target.parent / f".{target.name}.lock"
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "another process"
        os.close(fd)
        raise InputError(f"{target}: another tipcausal run (pid {holder}) is writing this folder; wait for it "
                         "to finish or choose another --out") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    return fd


@contextlib.contextmanager
def staged_run(target: str | Path) -> Iterator[Path]:
    """Lock ``target``, yield a fresh staging folder beside it, and put it in place only if the block succeeds."""
    target = check_output_dir(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = _lock(target)
    for stale in target.parent.glob(f"{STAGING_PREFIX}{target.name}-*"):  # left by a killed run
        shutil.rmtree(stale, ignore_errors=True)
    staging = target.parent / f"{STAGING_PREFIX}{target.name}-{os.getpid()}"
    staging.mkdir()
    try:
        yield staging
        _put_in_place(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
        os.close(fd)  # the (empty) lock file stays: unlinking it would let two runs lock different files
