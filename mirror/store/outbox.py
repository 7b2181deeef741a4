"""Outbox: the record versions the cloud has not acknowledged yet, and the sync worker's marks on them.

The store queues a version in the same transaction that writes it (:mod:`mirror.store.closet`), so
a kept garment is always queued; from there on only the sync side moves it along: due, published,
acked, or postponed after a rejection. That life is its own, and its bookkeeping commits without
an fsync (a mark lost in a power cut only sends a version again, and the cloud answers
"duplicate"), so it lives apart from the records, on the store's connection (:class:`ClosetDb`).

It also decides which image files are still needed: a deleted garment's images stay until the
version that still names them is acked (:func:`needed_files`, used by the store's deletes too).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from sqlite3 import Connection

from mirror.store.database import ClosetDb
from mirror.store.images import ImageFiles
from mirror.store.records import OutboxItem, OutboxStats

#: :meth:`Outbox.postpone` holds a version back at most this long; a ``not_before`` further
#: ahead was written before the clock stepped back, and counts as due.
MAX_HOLD_S = 2 * 3600.0
#: A ``published_at`` more than this in the future was stamped before the clock stepped back.
CLOCK_SLACK_S = 60.0


class Outbox:
    """The closet's sync queue, reached as ``store.outbox``."""

    def __init__(self, db: ClosetDb, images: ImageFiles) -> None:
        self._db = db
        self._images = images

    def stats(self, now: float | None = None) -> OutboxStats:
        moment = time.time() if now is None else now
        rows = self._db.read(
            lambda c: c.execute(
                "SELECT state, COUNT(*), SUM(not_before IS NOT NULL AND not_before > ? AND not_before <= ?)"
                " FROM outbox GROUP BY state",
                (moment, moment + MAX_HOLD_S),
            ).fetchall()
        )
        counts = {str(state): int(n) for state, n, _ in rows}
        held = sum(int(h or 0) for state, _, h in rows if state == "waiting")
        return OutboxStats(
            waiting=counts.get("waiting", 0),
            in_flight=counts.get("in_flight", 0),
            acked=counts.get("acked", 0),
            held=held,
        )

    def due(self, limit: int, ack_timeout_s: float, now: float | None = None) -> list[OutboxItem]:
        """Versions to publish now: waiting ones, oldest first, then in-flight ones whose ack is overdue.

        A postponed version (the cloud rejected it, or an image of it is unreadable) is not due
        before its ``not_before`` (:meth:`postpone`).
        """
        moment = time.time() if now is None else now
        # A time stamped by a clock that has since stepped back (a Pi without RTC, set by NTP
        # late) lies in the future: such a row is due now, not in a year.
        rows = self._db.read(
            lambda c: c.execute(
                "SELECT id, version, attempts FROM outbox WHERE"
                " (state = 'waiting' AND (not_before IS NULL OR not_before <= ? OR not_before > ?))"
                " OR (state = 'in_flight' AND (published_at < ? OR published_at > ?)) ORDER BY queued_at LIMIT ?",
                (moment, moment + MAX_HOLD_S, moment - ack_timeout_s, moment + CLOCK_SLACK_S, limit),
            ).fetchall()
        )
        return [OutboxItem(record_id=str(r[0]), version=int(r[1]), attempts=int(r[2])) for r in rows]

    def unacked_ids(self) -> set[str]:
        """Ids of records with a version the cloud has not acked yet (waiting or in flight): the sync badges."""
        rows = self._db.read(lambda c: c.execute("SELECT DISTINCT id FROM outbox WHERE state != 'acked'").fetchall())
        return {str(r[0]) for r in rows}

    def mark_published(self, items: Iterable[OutboxItem], now: float | None = None) -> None:
        moment = time.time() if now is None else now
        with self._db.write(durable=False) as conn:
            conn.executemany(
                "UPDATE outbox SET state = 'in_flight', attempts = attempts + 1, published_at = ?"
                " WHERE id = ? AND version = ? AND state != 'acked'",
                [(moment, item.record_id, item.version) for item in items],
            )

    def mark_acked(self, acks: Iterable[tuple[str, int]]) -> int:
        """Record the cloud's acks; return how many outbox rows they completed (repeats count 0).

        A garment deleted while a version of it was on its way kept that version's images (the cloud
        still needed them); once it is acked they go, or a delete on a full disk would free nothing.
        """
        keys = list(acks)
        moment = time.time()
        with self._db.write(durable=False) as conn:
            before = conn.total_changes
            conn.executemany(
                "UPDATE outbox SET state = 'acked', acked_at = ? WHERE id = ? AND version = ? AND state != 'acked'",
                [(moment, record_id, version) for record_id, version in keys],
            )
            done = conn.total_changes - before
            gone = "SELECT 1 FROM current WHERE id = ? AND deleted = 1"
            deleted = {record_id for record_id, _v in keys if conn.execute(gone, (record_id,)).fetchone()}
            freed = unneeded_files(conn, deleted) if deleted else set()
        if freed:
            self._db.guard(lambda: self._images.remove(freed))
        return done

    def postpone(self, keys: Iterable[tuple[str, int]], retry_after_s: float) -> int:
        """Keep these versions queued, but not due again for ``retry_after_s`` (the cloud rejected them,
        or one of their images cannot be read).

        Why not resend at once: the same bytes get the same answer, and being the oldest they would
        take every in-flight slot, so nothing newer would ever go. A fixed consumer (or a restored
        image) lets them through later.
        """
        moment = time.time()
        until = moment + min(retry_after_s, MAX_HOLD_S)
        with self._db.write(durable=False) as conn:
            before = conn.total_changes
            conn.executemany(
                "UPDATE outbox SET state = 'waiting', not_before = ?, attempts = attempts + 1"
                " WHERE id = ? AND version = ? AND state != 'acked'",
                [(until, record_id, version) for record_id, version in keys],
            )
            return conn.total_changes - before

    def requeue_in_flight(self) -> int:
        """After a restart nothing is really in flight any more: send those again (the cloud dedupes)."""
        with self._db.write(durable=False) as conn:
            return conn.execute("UPDATE outbox SET state = 'waiting' WHERE state = 'in_flight'").rowcount


def needed_files(conn: Connection) -> set[str]:
    """Image files a live garment or an unsent/unacked version still names."""
    rows = conn.execute(
        "SELECT i.filename FROM record_images i JOIN current c ON c.id = i.id AND c.version = i.version"
        " WHERE c.deleted = 0"
        " UNION SELECT i.filename FROM record_images i JOIN outbox o ON o.id = i.id AND o.version = i.version"
        " WHERE o.state != 'acked'"
    ).fetchall()
    return {str(r[0]) for r in rows}


def unneeded_files(conn: Connection, record_ids: Iterable[str] | None = None) -> set[str]:
    """Image files that versions of these garments (``None``: of any garment) name but nothing needs now."""
    if record_ids is None:
        named = {str(r[0]) for r in conn.execute("SELECT DISTINCT filename FROM record_images")}
    else:
        named = {
            str(r[0])
            for record_id in record_ids
            for r in conn.execute("SELECT filename FROM record_images WHERE id = ?", (record_id,))
        }
    return named - needed_files(conn) if named else set()
