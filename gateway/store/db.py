"""Open the gateway's SQLite database in WAL mode, with foreign keys and a busy timeout.

One file, one writer at a time, crash-safe commits. Two processes share it: the API and
its transaction worker. Never open it from two gateways at once (one worker, one sender).
Deleted rows are zeroed in the file (`secure_delete`), so an erased note's key does not
linger in free pages; the fingerprint key next to the database is never logged or returned.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import os
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from eccoo.gateway.errors import StoreOutdated
from eccoo.gateway.store.models import Base
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.orm import Session, sessionmaker

from eccoo.secret_files import SecretExists, read_secret, write_secret

# The layout of the tables (`PRAGMA user_version`); bumped whenever a table or column
# changes. A store of another layout is refused at start, never half-used.
SCHEMA_VERSION = 3


def open_engine(path: Path, *, writer: bool = True) -> Engine:
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        f"sqlite:///{path}",
        connect_args={"check_same_thread": False, "timeout": 30},
        pool_size=8,
        max_overflow=8,
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        # pysqlite's own BEGIN handling defers locks; BEGIN IMMEDIATE below takes the
        # write lock at the start so two writers never deadlock on upgrade.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        # Writers take the lock up front; readers see a WAL snapshot and never block them.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")

    if writer:
        _check_layout(engine, path)
        Base.metadata.create_all(engine)
        with engine.begin() as conn:
            conn.exec_driver_sql(f"PRAGMA user_version={SCHEMA_VERSION}")
        path.chmod(0o600)
    return engine


def _check_layout(engine: Engine, path: Path) -> None:
    with engine.connect() as conn:
        version = conn.exec_driver_sql("PRAGMA user_version").scalar()
        tables = inspect(conn).get_table_names()
    if tables and version != SCHEMA_VERSION:
        raise StoreOutdated(
            f"the gateway store {path} has layout {version}, this gateway needs "
            f"{SCHEMA_VERSION}: move it aside (what it sent is on chain) and start again"
        )


class Store:
    """The database and a way to run one unit of work in one transaction."""

    def __init__(self, path: Path) -> None:
        self.engine = open_engine(path)
        self.read_engine = open_engine(path, writer=False)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._readers = sessionmaker(self.read_engine, expire_on_commit=False)
        self._write_lock = threading.RLock()
        self._lock_file = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        self._depth = 0
        self._fingerprint_key = _secret_file(path.parent / "fingerprint.key")

    def __repr__(self) -> str:
        return "Store(<database>)"

    def fingerprint(self, digest: str) -> str:
        """A request digest keyed with this gateway's secret: comparable, not guessable."""
        return hmac.new(self._fingerprint_key, digest.encode(), hashlib.sha256).hexdigest()

    @contextmanager
    def unit(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back on any error.

        Writers queue on an in-process lock, then on a lock file shared with the other
        process, so they are woken the moment the holder commits instead of sleeping in
        SQLite's busy handler."""
        with self._write_lock:
            self._depth += 1
            try:
                if self._depth == 1:
                    fcntl.flock(self._lock_file, fcntl.LOCK_EX)
                with self._sessions() as session, session.begin():
                    yield session
            finally:
                self._depth -= 1
                if self._depth == 0:
                    fcntl.flock(self._lock_file, fcntl.LOCK_UN)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only snapshot (no write lock); never modify objects loaded here."""
        with self._readers() as session, session.begin():
            yield session

    def close(self) -> None:
        self.engine.dispose()
        self.read_engine.dispose()
        os.close(self._lock_file)


def _secret_file(path: Path) -> bytes:
    """32 random bytes kept 0600 in `path` (as hex), made at first start by whichever
    process of the gateway gets there first."""
    if not path.exists():
        try:
            write_secret(path, secrets.token_hex(32) + "\n")
        except SecretExists:
            pass  # the other process made it first: use theirs
    return bytes.fromhex(read_secret(path))
