"""The PFS façade: one object that owns the metadata DB and the object store of a loxo home.

``PFS.open(home)`` lays out ``$LOXO_HOME``: ``loxo.db`` (metadata) and ``objects/`` (the
local object store) unless an object-store URL is given.
"""

from __future__ import annotations

from pathlib import Path

from loxo.storage.fileset import NodeCache
from loxo.storage.objectstore import ObjectStore
from loxo.storage.registry import open_store

from .branches import BranchOps
from .chunkindex import DbChunkIndex
from .commits import CommitOps
from .core import DEFAULT_PROJECT, now
from .db import Database
from .files import FileOps
from .maintenance import MaintenanceOps
from .repos import RepoOps


class PFS(RepoOps, BranchOps, CommitOps, FileOps, MaintenanceOps):
    def __init__(self, db: Database, store: ObjectStore) -> None:
        self.db, self.store = db, store
        self.nodes = NodeCache(store)
        self.index = DbChunkIndex(db)
        self.head_hooks = []
        with db.tx():
            db.execute(
                "INSERT OR IGNORE INTO projects (name, description, created) VALUES (?, '', ?)",
                (DEFAULT_PROJECT, now()),
            )

    @classmethod
    def open(cls, home: str | Path, store_url: str | None = None) -> PFS:
        home = Path(home).expanduser()
        try:
            home.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            from loxo.errors import StorageError

            raise StorageError(f"cannot create the loxo home {str(home)!r}: {err}") from err
        db = Database(home / "loxo.db")
        store = open_store(store_url or str(home / "objects"))
        return cls(db, store)

    def close(self) -> None:
        self.store.close()
        self.db.close()
