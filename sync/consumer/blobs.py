"""Images stored by content hash (``<root>/<aa>/<sha256>``), written crash-safely.

Content addressing makes storing idempotent (the same image sent twice is one file) and lets
the record reference images by hash, whatever order they arrive in.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from mirror.store.images import fsync_dir


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def has(self, sha256: str) -> bool:
        return self.path(sha256).exists()

    def put(self, sha256: str, data: bytes) -> None:
        """Write ``data`` (whose hash the caller checked) durably: temp file, fsync, rename, fsync folder."""
        final = self.path(sha256)
        if final.exists():
            return
        final.parent.mkdir(exist_ok=True)
        tmp = final.with_name(f".tmp-{sha256[:16]}-{os.getpid()}-{id(data)}")
        with tmp.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(final)
        fsync_dir(final.parent)

    def verify(self, sha256: str) -> bool:
        """Re-hash a stored image (tests and audits)."""
        return hashlib.sha256(self.path(sha256).read_bytes()).hexdigest() == sha256
