"""Generated secrets kept in 0600 files beside the data they protect.

A secret is created once, at first start, and read from its file afterwards. It is
never printed or logged; callers pass the file's path around, not the value.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def ensure_secret(path: Path, *, nbytes: int = 24) -> str:
    """Return the secret stored at path, creating it (0600, atomically) if missing."""
    if path.exists():
        return read_secret(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(nbytes)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    tmp.replace(path)
    return value


def read_secret(path: Path) -> str:
    return path.read_text().strip()
