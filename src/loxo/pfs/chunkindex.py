"""The chunk index, kept in the metadata database.

``DbChunkIndex`` implements :class:`loxo.storage.blobs.ChunkIndex`: chunk hash -> where the
chunk is stored, plus ``last_used``, refreshed by every lookup. Garbage collection spares
every index entry touched since the oldest live writer lease began (:mod:`.leases`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from loxo.storage.blobs import DataRef

from .db import Database

_BATCH = 5000


class DbChunkIndex:
    def __init__(self, db: Database) -> None:
        self.db = db

    def lookup(self, hashes: Sequence[str]) -> dict[str, DataRef]:
        found: dict[str, DataRef] = {}
        now = time.time()
        for i in range(0, len(hashes), _BATCH):
            part = list(hashes[i : i + _BATCH])
            marks = ",".join("?" * len(part))
            with self.db.tx():
                self.db.execute(
                    f"UPDATE chunks SET last_used = ? WHERE hash IN ({marks})", [now, *part]
                )
                rows = self.db.all(
                    'SELECT hash, key, "offset", stored_len, length, codec FROM chunks '
                    f"WHERE hash IN ({marks})",
                    part,
                )
            for h, key, off, slen, n, codec in rows:
                found[h] = DataRef(key, off, slen, n, h, codec)
        return found

    def record(self, refs: Sequence[DataRef]) -> None:
        now = time.time()
        with self.db.tx():
            self.db.executemany(
                'INSERT OR IGNORE INTO chunks (hash, key, "offset", stored_len, length, codec, '
                "last_used) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(r.hash, r.key, r.offset, r.stored_len, r.length, r.codec, now) for r in refs],
            )
