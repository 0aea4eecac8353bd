"""service: the one façade every front door calls (embedded client, later gRPC and HTTP).

:class:`Service` is the versioned file system (``pfs``) plus pipelines (``pps``) over one
metadata DB and one object store. In embedded mode the process that finishes an input commit
drives the resulting jobs (``drive()``) until the DAG is quiet.

A home keeps its objects in ``objects/`` unless it was first opened with an object-store URL
(``store_url``, ``--store`` or ``$LOXO_STORE``): ``config.yaml`` in the home then records it
(``store: s3://bucket/prefix``), and every later open uses it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from loxo.errors import ConflictError
from loxo.execution.executor import Executor
from loxo.execution.registry import executor_class, open_executor
from loxo.pfs.api import PFS
from loxo.pps import schema
from loxo.pps.cron import CronOps
from loxo.pps.datum_queries import DatumQueryOps
from loxo.pps.driver import DriverOps, Progress

from .config import read_config, setting, write_config


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
        self.executor_options: dict[str, Any] = {}
        # Embedded, whoever waits for a job runs it; under `loxo serve` the scheduler does,
        # and waiting only polls.
        self.drives_inline = True

    def drive(self, *, progress: Progress | None = None) -> list[tuple[str, str]]:
        """Commit due cron ticks, then run every runnable job until the DAG is quiet."""
        self.due_ticks()
        return super().drive(progress=progress)

    def executor(self) -> Executor:
        if self._executor is None:
            self._executor = open_executor(self.executor_name, **self.executor_options)
        return self._executor

    @classmethod
    def open_home(
        cls,
        home: str | Path | None = None,
        store_url: str | None = None,
        *,
        executor: str | None = None,
        ray_address: str | None = None,
    ) -> Service:
        """The service of a home; the executor and Ray address come from the arguments,
        else ``$LOXO_EXECUTOR`` / ``$LOXO_RAY_ADDRESS``, else the home's config."""
        home = Path(home or default_home()).expanduser()
        svc = cls.open(home, home_store(home, store_url or os.environ.get("LOXO_STORE")))
        assert isinstance(svc, Service)
        svc.executor_name = setting(home, "executor", executor) or "local"
        executor_class(svc.executor_name)  # an unknown name or a missing extra fails now
        address = setting(home, "ray_address", ray_address)
        if svc.executor_name == "ray" and address:
            svc.executor_options = {"address": address}
        return svc


def home_store(home: Path, wanted: str | None) -> str | None:
    """The object-store URL of ``home``: the one its ``config.yaml`` records, else ``wanted``
    (then recorded there); None for the home's own ``objects/`` directory. A URL naming
    another store than the home's is a :class:`ConflictError`."""
    recorded = read_config(home).get("store")
    if recorded:
        if wanted and wanted.split("?")[0].rstrip("/") != recorded.split("?")[0].rstrip("/"):
            raise ConflictError(
                f"the loxo home {home} keeps its objects in {recorded}, not {wanted}: "
                "drop --store / LOXO_STORE, or use another home"
            )
        return wanted or str(recorded)
    if not wanted:
        return None
    if (home / "loxo.db").exists():
        raise ConflictError(
            f"the loxo home {home} keeps its objects in {home / 'objects'}; it cannot move "
            f"to {wanted}: use a new home for that store"
        )
    write_config(home, {"store": wanted})
    return wanted


__all__ = ["PFS", "Service", "default_home", "home_store"]
