"""The gateway's store refuses a database written with another table layout, at start."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from eccoo.gateway.errors import StoreOutdated
from eccoo.gateway.store.db import SCHEMA_VERSION, Store


def test_a_store_reopens_and_an_older_layout_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "gateway.db"
    Store(path).close()
    Store(path).close()  # the same layout opens again
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION - 1}")
    before = path.read_bytes()
    with pytest.raises(StoreOutdated, match="move it aside"):
        Store(path)
    assert path.read_bytes() == before  # nothing written into the old store
