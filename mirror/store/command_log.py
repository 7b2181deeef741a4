"""CommandLog: the first answer given to each recent remote command, kept in the closet database.

Not garments and not the outbox: the sync side's memory of which commands (capture, delete, …)
it has already carried out, so a command the broker delivers again after a crash is answered
"duplicate" instead of being carried out twice (``sync.commands.StoreAnswers``). It lives in the
closet's file only so that it is as durable as the garments the commands changed, and shares the
store's connection (:class:`~mirror.store.database.ClosetDb`).
"""

from __future__ import annotations

import time

from mirror.store.database import ClosetDb


class CommandLog:
    """Answered remote command ids, reached as ``store.commands``."""

    def __init__(self, db: ClosetDb) -> None:
        self._db = db

    def answer(self, command_id: str) -> str | None:
        """The status a remote command with this id was first answered with, if it was."""
        row = self._db.read(
            lambda c: c.execute("SELECT status FROM command_answers WHERE id = ?", (command_id,)).fetchone()
        )
        return None if row is None else str(row[0])

    def remember(self, command_id: str, status: str, keep: int) -> None:
        """Note a command's first answer; only the newest ``keep`` are kept (the duplicate check's window).

        Durable: QoS 1 redelivers a command whose PUBACK a crash or power cut swallowed, and the
        restarted mirror must answer it "duplicate" instead of carrying it out twice.
        """
        with self._db.write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO command_answers (id, status, answered_at) VALUES (?, ?, ?)",
                (command_id, status, time.time()),
            )
            conn.execute(
                "DELETE FROM command_answers WHERE rowid <= (SELECT MAX(rowid) FROM command_answers) - ?", (keep,)
            )
