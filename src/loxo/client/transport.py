"""The HTTP transport of the remote client: JSON requests to a ``loxo serve``, its error
bodies raised as the loxo errors they name (:mod:`.wire`), an unreachable server as one
:class:`~loxo.errors.TransientError` naming the address."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from loxo.errors import InvalidArgumentError, LoxoError, TransientError
from loxo.pfs.paths import validate_name
from loxo.service.config import check_address

from .wire import error_from

CHUNK = 1 << 20  # bytes per read of a streamed body


def named(kind: str, name: str) -> str:
    """A project, repo, branch or pipeline name as one segment of a URL path, checked as
    the server checks it: an invalid name raises the same ``InvalidName`` as embedded, and
    no name can reach another route (``x/branches/master``)."""
    return validate_name(kind, name)


def ident(value: str) -> str:
    """An ID (commit, job, datum) as one segment of a URL path."""
    return quote(value, safe="")


def project_url(project: str) -> str:
    return f"/api/v1/projects/{named('project', project)}"


def repo_url(project: str, repo: str) -> str:
    return f"{project_url(project)}/repos/{named('repo', repo)}"


def pipeline_url(project: str, pipeline: str) -> str:
    return f"{project_url(project)}/pipelines/{named('pipeline', pipeline)}"


class Transport:
    """JSON over HTTP to the server at ``address`` (``http://host:port``)."""

    def __init__(self, address: str, *, token: str | None = None, timeout: float = 60.0) -> None:
        self.address = check_address(address).rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            self.http = httpx.Client(base_url=self.address, headers=headers, timeout=timeout)
        except httpx.InvalidURL as err:
            raise InvalidArgumentError(f"invalid server address {address!r}: {err}") from err

    def request(self, method: str, url: str, *, wait: bool = False, **kw: Any) -> Any:
        """The JSON body of a successful request; a loxo error otherwise."""
        try:
            response = self.http.request(
                method, url, timeout=None if wait else httpx.USE_CLIENT_DEFAULT, **kw
            )
        except httpx.TransportError as err:
            raise self.unreachable(err) from err
        self.check(response)
        return response.json()

    def check(self, response: httpx.Response) -> None:
        if response.is_success:
            return
        try:
            body = response.json()
        except ValueError:
            body = {"error": {"message": f"HTTP {response.status_code}: {response.text[:200]}"}}
        raise error_from(body)

    def unreachable(self, err: Exception) -> LoxoError:
        return TransientError(
            f"cannot reach the loxo server at {self.address}: {err or type(err).__name__}; "
            "is `loxo serve` running there? (LOXO_ADDRESS / `loxo config set address`)"
        )

    def broke_off(self, what: str, err: Exception) -> LoxoError:
        """A response body that stopped before its end (the server failed while sending)."""
        return TransientError(
            f"the server at {self.address} stopped sending {what} before its end "
            f"({err or type(err).__name__}); the server's log says why "
            "(for a corrupt object, run `loxo fsck` on the server's home)"
        )

    def get(self, url: str, **params: Any) -> Any:
        return self.request("GET", url, params={k: v for k, v in params.items() if v is not None})

    def post(self, url: str, body: dict[str, Any] | None = None, **kw: Any) -> Any:
        return self.request("POST", url, json=body or {}, **kw)

    def close(self) -> None:
        self.http.close()
