"""The HTTP transport of the remote client: JSON requests to a ``loxo serve``, its error
bodies raised as the loxo errors they name (:mod:`.wire`), an unreachable server as one
:class:`~loxo.errors.TransientError` naming the address."""

from __future__ import annotations

from typing import Any

import httpx

from loxo.errors import InvalidArgumentError, LoxoError, TransientError

from .wire import error_from

CHUNK = 1 << 20  # bytes per read of a streamed body


class Transport:
    """JSON over HTTP to the server at ``address`` (``http://host:port``)."""

    def __init__(self, address: str, *, token: str | None = None, timeout: float = 60.0) -> None:
        if not address.startswith(("http://", "https://")):
            raise InvalidArgumentError(
                f"server address {address!r} must start with http:// or https://"
            )
        self.address = address.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=self.address, headers=headers, timeout=timeout)

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
