"""client: the Python SDK, embedded or remote.

``loxo.Client()`` opens the embedded store (``$LOXO_HOME``, default ``~/.loxo``) in this
process, or — when an address is given (``address=``, ``$LOXO_ADDRESS``, or ``address`` in
the home's ``config.yaml``, see ``loxo config set address``) — talks to a ``loxo serve``
over HTTP. Both have the same methods, arguments, results and exceptions (a test pins the
list, :data:`API`), so user code, the CLI and the functional tests run unchanged in both
modes. Embedded, the process that waits for jobs (``drive``, ``wait_job``) runs them;
remote, the server's scheduler does and the client only waits.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from loxo.errors import InvalidArgumentError
from loxo.service import Service, default_home
from loxo.service.config import setting

from .remote import RemoteService

API: tuple[str, ...] = (
    *("create_project", "list_project", "create_repo", "inspect_repo", "list_repo"),
    *("update_repo", "delete_repo", "create_branch", "inspect_branch", "list_branch"),
    *("delete_branch", "start_commit", "finish_commit", "inspect_commit", "list_commit"),
    *("wait_commit", "squash_commit", "delete_commit", "list_commit_set", "wait_commit_set"),
    *("modify_file", "put_file", "get_file", "iter_file", "get_file_tar", "get_file_to_dir"),
    *("list_file", "inspect_file", "walk_files", "glob_file", "diff_file", "delete_file"),
    *("copy_file", "create_pipeline", "update_pipeline", "validate_pipeline"),
    *("preview_update", "dry_run_datums", "inspect_pipeline", "list_pipeline"),
    "list_pipeline_versions",
    *("delete_pipeline", "start_pipeline", "stop_pipeline", "rerun_pipeline", "run_cron"),
    *("list_job", "inspect_job", "wait_job", "stop_job", "list_datum", "inspect_datum"),
    "list_datum_outputs",
    *("restart_datum", "get_logs", "follow_logs", "pending_jobs", "drive", "gc", "fsck"),
)
"""The client's methods: the same on the embedded service and on the remote one."""


class Client:
    """A handle on a loxo store, embedded or remote. Use as a context manager or call
    ``close()``."""

    def __init__(
        self,
        home: str | Path | None = None,
        *,
        store_url: str | None = None,
        address: str | None = None,
        token: str | None = None,
        executor: str | None = None,
        ray_address: str | None = None,
    ) -> None:
        self.home = home
        home_path = Path(home or default_home()).expanduser()
        self.address = setting(home_path, "address", address)
        self._svc: Service | RemoteService
        if self.address:
            self._svc = RemoteService(self.address, token=setting(home_path, "token", token))
        else:
            self._svc = Service.open_home(
                home_path, store_url, executor=executor, ray_address=ray_address
            )

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._svc, name)

    @property
    def remote(self) -> bool:
        return isinstance(self._svc, RemoteService)

    @property
    def service(self) -> Service:
        """The embedded service (its store, its executor); not available remotely."""
        if not isinstance(self._svc, Service):
            raise InvalidArgumentError(
                f"this client talks to the server at {self.address}: the embedded service "
                "is on the server"
            )
        return self._svc

    def close(self) -> None:
        self._svc.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["API", "Client", "RemoteService"]
