"""server: ``loxo serve``, the long-running front door that teams share.

One process owns the metadata DB and the object store (one :class:`~loxo.service.Service`)
and runs three things over it:

- the **scheduler** (:mod:`.scheduler`): a thread that runs jobs continuously — whenever a
  branch head moves (whoever moved it: HTTP, gRPC, a cron tick), when a write request
  arrives, and once a second for cron ticks and resumed jobs. Request handlers never run jobs;
  in this mode waiting for a job or commit only polls (``Service.drives_inline`` is off).
- the **HTTP/JSON API** (:mod:`.http`): everything the embedded client can do, under
  ``/api/v1``, described by OpenAPI at ``/openapi.json``; streaming uploads and downloads;
  server-sent events for live job progress and log following; ``/healthz``, ``/readyz``,
  ``/metrics`` (Prometheus); the web console at ``/``. loxo's remote client speaks it.
- the **gRPC API** (:mod:`.pachyderm`, with the ``loxo[pachyderm]`` extra): the subset of
  pachd's services the official ``pachyderm_sdk`` uses.

Both doors are thin: each handler parses its request, calls one service method and encodes
the result; loxo errors become HTTP / gRPC status codes in one table per door. Events (job
progress, commits, pipeline states) flow from the scheduler and the service hooks through
one :class:`~loxo.server.events.EventBus` to every subscriber.

Crash safety is the service's: a job interrupted by ``kill -9`` is resumed when the server
comes back (its lease has expired), and an upload session that never finished leaves nothing
visible.
"""
