"""server.pachyderm: the gRPC door that speaks pachd's API to the official Pachyderm SDK.

``pachyderm_sdk.Client(host, port)`` pointed at ``loxo serve --grpc-port PORT`` works on a
loxo home as it would on a Pachyderm cluster: repos, branches, commits and commit sets, file
reads and writes, pipelines, jobs, datums and logs. (Requires the ``loxo[pachyderm]`` extra.)

The concept
    pachd's services (``pfs_v2.API``, ``pps_v2.API``, ``versionpb_v2.API``, ...) are served
    with pachyderm_sdk's own betterproto message classes, so the bytes on the wire are the
    SDK's by construction. Each RPC is a handler of one module (:mod:`.pfs_api` repos and
    branches, :mod:`.commits_api`, :mod:`.modify` for ``ModifyFile``, :mod:`.files_api`,
    :mod:`.pps_api` pipelines, :mod:`.jobs_api` jobs, datums and logs) that makes one call on
    the :class:`~loxo.service.Service` and converts the result (:mod:`.convert_pfs`,
    :mod:`.convert_pps`). ``docs/pachyderm-compat.md`` lists what is supported.

Invariants
    - Handlers are thin: no business logic, never ``Service.drive()`` (the server's
      scheduler runs jobs); requests that wait (``wait``, ``follow``, ``SubscribeCommit``)
      poll the service and stop when the caller cancels or its deadline passes
      (:mod:`.waiting`).
    - Errors become status codes in one table (:mod:`.errors`), by loxo error category,
      with the loxo message as details; never by message text.
    - Every RPC pachyderm_sdk knows has an answer: the implemented ones, and
      ``UNIMPLEMENTED`` with "loxo does not implement <service>/<Method>" for the rest. The
      list of RPCs and their kinds is read from the SDK's own stubs (:mod:`.rpc`).
    - One ``ModifyFile`` stream is one write session: nothing of it is visible until the
      stream ends well; then it is one new commit, or part of the open commit it names.
    - With a token, every call must carry the metadata ``authn-token: <token>`` (what
      ``Client(auth_token=...)`` sends), or it is answered ``UNAUTHENTICATED`` (:mod:`.auth`).
"""

from .server import build_grpc_server

__all__ = ["build_grpc_server"]
