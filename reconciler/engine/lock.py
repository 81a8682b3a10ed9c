"""The lock of one environment: one writer of an org's series and state at a time.

The lock is keyed on what identifies the org (the API's base URL and the identity the
credentials carry, never a secret), not on a checkout's path: two checkouts of one repository
applying to the same org on one machine wait for each other. It lives in a per-user folder
(another user's lock never makes ours fail on permissions) and uses ``filelock``, which works
on Linux, macOS and Windows; the operating system releases it when the process dies, so a
killed apply never leaves the environment locked. Across machines, CI's concurrency group per
environment is the lock (docs/ci.md).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from reconciler.errors import StateError, StateLocked

LOCK_DIR_VARIABLE = "RECONCILER_LOCK_DIR"


def lock_directory() -> Path:
    """A folder only this user writes: $RECONCILER_LOCK_DIR, the runtime dir, or a cache."""
    override = os.environ.get(LOCK_DIR_VARIABLE)
    if override:
        return Path(override)
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and Path(runtime).is_dir():
        return Path(runtime) / "reconciler-locks"
    local = os.environ.get("LOCALAPPDATA")  # Windows
    if local:
        return Path(local) / "reconciler" / "locks"
    with contextlib.suppress(RuntimeError, KeyError):
        return Path.home() / ".cache" / "reconciler" / "locks"
    uid = getattr(os, "getuid", lambda: 0)()
    return Path(tempfile.gettempdir()) / f"reconciler-locks-{uid}"


def lock_name(identity: str) -> str:
    """The lock file's name for an environment identity (hashed: no host or user in names)."""
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()[:24] + ".lock"


@contextlib.contextmanager
def environment_lock(*, identity: str, describe: str) -> Iterator[None]:
    """Hold the lock of the environment ``identity`` (e.g. ``base_url|user``) for the block."""
    folder = lock_directory()
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as error:
        raise StateError(
            f"cannot create the lock folder {folder}: {error.strerror} "
            f"(set {LOCK_DIR_VARIABLE} to a folder you can write)"
        ) from None
    lock = FileLock(str(folder / lock_name(identity)), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise StateLocked(
            f"another reconciler command is writing to {describe}; wait for it to finish"
        ) from None
    except OSError as error:
        raise StateError(f"cannot take the lock of {describe}: {error.strerror}") from None
    try:
        yield
    finally:
        lock.release()
