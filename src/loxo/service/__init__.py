"""service: the one façade every front door calls (embedded client, later gRPC and HTTP).

For now the service is the versioned file system (:class:`loxo.pfs.api.PFS`); pipelines
(``pps``) join it here, so that front doors never reach into the layers below.
"""

from __future__ import annotations

import os
from pathlib import Path

from loxo.pfs.api import PFS


def default_home() -> Path:
    """``$LOXO_HOME``, or ``~/.loxo``."""
    return Path(os.environ.get("LOXO_HOME") or Path.home() / ".loxo").expanduser()


class Service(PFS):
    """Everything loxo can do, over one metadata DB and one object store."""

    @classmethod
    def open_home(cls, home: str | Path | None = None, store_url: str | None = None) -> Service:
        svc = cls.open(home or default_home(), store_url)
        assert isinstance(svc, Service)
        return svc


__all__ = ["Service", "default_home"]
