"""The remote client: the service's methods over ``loxo serve``'s HTTP API.

:class:`RemoteService` has the embedded :class:`~loxo.service.Service`'s public methods with
the same arguments, results (records decoded by :mod:`.wire`) and exceptions (the same
classes, from the server's error bodies), so the CLI and user code run unchanged in both
modes. Jobs run on the server: :meth:`RemoteService.drive` waits for them instead of
running them. File bytes stream both ways; writes go through upload sessions
(:mod:`.remote_files`) that become one commit when closed.

It is made of :mod:`.transport` (JSON over HTTP, errors), :mod:`.remote_pfs` (repos,
branches, commits, files) and :mod:`.remote_pps` (pipelines, jobs, datums, logs, waiting).
"""

from __future__ import annotations

from .remote_pfs import RemotePFS
from .remote_pps import RemotePPS


class RemoteService(RemotePFS, RemotePPS):
    """The service of a loxo server at ``address`` (``http://host:port``)."""


__all__ = ["RemoteService"]
