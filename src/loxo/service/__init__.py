"""service: the one façade every front door calls (embedded client, later gRPC and HTTP).

:class:`Service` is the versioned file system (``pfs``) plus pipelines (``pps``) over one
metadata DB and one object store. In embedded mode the process that finishes an input commit
drives the resulting jobs (``drive()``) until the DAG is quiet.
"""

from __future__ import annotations

import os
from pathlib import Path

from loxo.pfs.api import PFS
from loxo.pps import schema
from loxo.pps.cron import CronOps
from loxo.pps.datum_queries import DatumQueryOps
from loxo.pps.driver import DriverOps, Progress


def default_home() -> Path:
    """``$LOXO_HOME``, or ``~/.loxo``."""
    return Path(os.environ.get("LOXO_HOME") or Path.home() / ".loxo").expanduser()


class Service(DriverOps, DatumQueryOps, CronOps):
    """Everything loxo can do, over one metadata DB and one object store."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        schema.install(self.db)
        self.head_hooks.append(self._on_head)
        self.executor_name = os.environ.get("LOXO_EXECUTOR", "local")

    def drive(self, *, progress: Progress | None = None) -> list[tuple[str, str]]:
        """Commit due cron ticks, then run every runnable job until the DAG is quiet."""
        self.due_ticks()
        return super().drive(progress=progress)

    @classmethod
    def open_home(cls, home: str | Path | None = None, store_url: str | None = None) -> Service:
        svc = cls.open(home or default_home(), store_url)
        assert isinstance(svc, Service)
        return svc


__all__ = ["PFS", "Service", "default_home"]
