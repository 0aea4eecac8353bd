"""client: the Python SDK.

``loxo.Client()`` opens the embedded store (``$LOXO_HOME``, default ``~/.loxo``) in this
process; every method is the service's own, so the CLI, tests and user code share one API.
A remote mode (talking to ``loxo serve``) will present the same methods.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from loxo.service import Service


class Client:
    """A handle on a loxo store. Use as a context manager or call ``close()``."""

    def __init__(self, home: str | Path | None = None, *, store_url: str | None = None) -> None:
        self._svc = Service.open_home(home, store_url)
        self.home = home

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._svc, name)

    @property
    def service(self) -> Service:
        return self._svc

    def close(self) -> None:
        self._svc.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["Client"]
