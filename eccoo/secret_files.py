"""Secret files: keys, passwords and sessions kept 0600 beside the data they protect.

One writer for all of eccoo: a secret is written to a temporary file created 0600 in the
same folder and then put in place in one step, so no reader ever sees half of it and it is
never world-readable for a moment. An existing secret is never replaced unless the caller
says so. Values are never printed or logged; callers pass paths around, not values.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path

from eccoo.errors import AlreadyExists


class SecretExists(AlreadyExists):
    """A secret file is already there and the caller did not ask to replace it."""


def write_secret(
    path: Path, data: str | bytes, *, replace: bool = False, private_folder: bool = False
) -> None:
    """Write `data` to `path` (0600), atomically; SecretExists if it exists unless `replace`.

    `private_folder` also makes the containing folder 0700 (a folder of secrets only)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if private_folder:
        path.parent.chmod(0o700)
    payload = data.encode() if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # created 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # atomic and exclusive: fails if path exists
            except FileExistsError:
                raise SecretExists(
                    f"{path}: already exists, not overwriting", field=str(path)
                ) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def read_secret(path: Path) -> str:
    return Path(path).read_text().strip()


def ensure_secret(path: Path, *, nbytes: int = 24) -> str:
    """The secret stored at `path`, generated (URL-safe, `nbytes` of randomness) if missing."""
    path = Path(path)
    if not path.exists():
        try:
            write_secret(path, secrets.token_urlsafe(nbytes) + "\n")
        except SecretExists:
            pass  # another process made it first: use theirs
    return read_secret(path)
