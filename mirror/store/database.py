"""The closet database's one connection and the guarded ways in: the lock, the transactions, the errors.

:class:`~mirror.store.closet.ClosetStore` (the records), :class:`~mirror.store.outbox.Outbox` and
:class:`~mirror.store.command_log.CommandLog` all work on the same SQLite file through the same
connection. They share one :class:`ClosetDb` so that there is one lock serialising the threads,
one way to open a write transaction (and choose its durability), and one translation of SQLite
and file errors into the store's one-line errors — not three copies that could drift apart.
The store opens the connection and closes it; the others only borrow it.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from mirror.store import translate

T = TypeVar("T")


class ClosetDb:
    """The open connection, the lock every call takes, and where errors point (database, folders)."""

    def __init__(self, conn: sqlite3.Connection, db_path: Path, data_dir: Path, images_folder: Path) -> None:
        self.conn = conn
        self.db_path = db_path
        self.data_dir = data_dir
        self.images_folder = images_folder
        # Reentrant: a query run under read() decodes its rows, and decoding takes the lock for its cache.
        self.lock = threading.RLock()

    def close(self) -> None:
        with self.lock:
            self.conn.close()

    def read(self, query: Callable[[sqlite3.Connection], T]) -> T:
        with self.lock:
            try:
                return query(self.conn)
            except sqlite3.Error as exc:
                raise translate.from_sqlite(exc, self.db_path) from None

    @contextlib.contextmanager
    def write(self, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction (takes the write lock up front: no upgrade deadlocks between processes).

        ``durable=False`` commits without an fsync (``synchronous = NORMAL`` for that commit only):
        for the outbox's own bookkeeping (published / acked marks), whose loss in a power cut
        only means a version is sent again and the cloud answers "duplicate". The next durable
        commit fsyncs the WAL, taking these along.
        """
        with self.lock:
            conn = self.conn
            try:
                if not durable:
                    conn.execute("PRAGMA synchronous = NORMAL")
                try:
                    conn.execute("BEGIN IMMEDIATE")
                    try:
                        yield conn
                        conn.execute("COMMIT")
                    except BaseException:
                        if conn.in_transaction:
                            conn.execute("ROLLBACK")
                        raise
                finally:
                    if not durable:
                        conn.execute("PRAGMA synchronous = FULL")
            except sqlite3.Error as exc:
                raise translate.from_sqlite(exc, self.db_path) from None

    def guard(self, action: Callable[[], T]) -> T:
        """Run a file operation, turning a full disk into :class:`~mirror.store.errors.StoreFullError`."""
        try:
            return action()
        except OSError as exc:
            raise translate.from_os(exc, self.data_dir, f"closet images folder {self.images_folder} failed") from None
