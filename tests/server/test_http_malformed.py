"""Malformed requests to a real ``loxo serve``: every one is a 4xx in the documented
``{"error": {type, category, message}}`` shape, never a 5xx and never FastAPI's own
``{"detail": ...}``.

The routes come from the server's ``/openapi.json``; each gets a fixed set of hostile
bodies (invalid UTF-8, broken JSON, wrong types, 2,000-deep nesting...) and then
Hypothesis-drawn bodies, path and query values. The server must log no traceback."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import loxo
from loxo.errors import InvalidName
from tests.serverproc import ServerProc, running_server

DEEP = 2000
Route = tuple[str, str]  # method, path template

HOSTILE_BODIES: tuple[tuple[str, bytes, str | None], ...] = (
    ("not UTF-8", b"\xff\xfe\xfd", "application/json"),
    ("not UTF-8, no JSON type", b"\xff", None),
    ("not UTF-8, form type", b"\xff\x00\xc3", "application/x-www-form-urlencoded"),
    ("not UTF-8 in a string", b'{"name": "\xff", "ref": "\xff"}', "application/json"),
    ("broken JSON", b'{"name": ', "application/json"),
    ("not JSON", b"name=x", "application/json"),
    ("a list", b"[1, 2]", "application/json"),
    ("a string", b'"x"', "application/json"),
    ("null", b"null", "application/json"),
    ("wrong types", b'{"name": 3, "ref": [], "spec": 1.5, "timeout": "soon"}', "application/json"),
    ("missing fields", b"{}", "application/json"),
    ("deep list", b"[" * DEEP + b"]" * DEEP, "application/json"),
    ("deep object", b'{"a":' * DEEP + b"1" + b"}" * DEEP, "application/json"),
    ("deep spec", b'{"spec": ' + b'{"a":' * DEEP + b"1" + b"}" * DEEP + b"}", "application/json"),
    ("deep but parseable", b'{"spec": {"metadata": ' + b"[" * 600 + b"]" * 600 + b"}}", None),
    ("huge number", b'{"spec": {"parallelism_spec": {"constant": ' + b"9" * 5000 + b"}}}", None),
    ("NUL", b'{"name": "a\\u0000b", "ref": "r\\u0000@m", "spec": "\\u0000"}', None),
)
PATH_VALUES = ("nope", "-x", "%ff", "a%00b", "r@master", "a" * 300, "..", "%2e%2e")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProc]:
    home = tmp_path_factory.mktemp("home")
    with running_server(home, "--grpc-port", "-1", env={"LOXO_EXECUTOR": "inline"}) as proc:
        yield proc
        output = "".join(proc.output)
        assert "Traceback" not in output, "the server logged an unexpected error:\n" + output


@pytest.fixture(scope="module")
def http(server: ServerProc) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.http_url, timeout=30) as c:
        c.post("/api/v1/projects/default/repos", json={"name": "r"}).raise_for_status()
        yield c


@pytest.fixture(scope="module")
def routes(http: httpx.Client) -> list[Route]:
    paths = http.get("/openapi.json").json()["paths"]
    found = [(m.upper(), p) for p, ops in paths.items() for m in ops]
    assert len(found) > 60, found
    return found


def fill(path: str, value: str) -> str:
    return re.sub(r"\{[^}]+\}", value, path)


def send(
    http: httpx.Client,
    method: str,
    url: str,
    body: bytes | None = None,
    content_type: str | None = None,
    params: dict[str, str] | None = None,
) -> httpx.Response:
    """The response, read whole only when it is an error (a success may be an endless
    event stream)."""
    headers = {"content-type": content_type} if content_type else {}
    with http.stream(method, url, content=body, headers=headers, params=params) as r:
        if r.status_code >= 400:
            r.read()
        return r


def check(r: httpx.Response, what: str) -> None:
    """No 5xx, and an error is ``{"error": {type, category, message}}``."""
    where = f"{r.request.method} {r.request.url} ({what})"
    assert r.status_code < 500, f"{where}: {r.status_code} {r.text[:500]}"
    if r.status_code >= 400:
        body = r.json()
        assert set(body) == {"error"}, f"{where}: {body}"
        error = body["error"]
        assert set(error) == {"type", "category", "message"}, f"{where}: {body}"
        assert all(isinstance(v, str) and v for v in error.values()), f"{where}: {body}"
        assert "\n" not in error["message"], f"{where}: {body}"


def test_hostile_bodies_on_every_route_are_4xx_errors(
    http: httpx.Client, routes: list[Route]
) -> None:
    for method, path in routes:
        url = fill(path, "nope")
        for what, body, content_type in HOSTILE_BODIES:
            check(send(http, method, url, body, content_type), what)


def test_a_body_that_is_not_utf8_is_a_400_naming_the_problem(http: httpx.Client) -> None:
    r = send(http, "POST", "/api/v1/projects/default/repos", b"\xff", None)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["category"] == "InvalidArgumentError"


def test_validation_errors_name_the_field(http: httpx.Client) -> None:
    r = http.post("/api/v1/projects/default/repos", json={"name": 3})
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["type"] == "InvalidRequest" and error["category"] == "InvalidArgumentError"
    assert "body.name" in error["message"] and "string" in error["message"]
    r = http.get("/api/v1/commit")
    assert r.status_code == 400 and "query.ref" in r.json()["error"]["message"]


def test_a_too_deep_body_says_so(http: httpx.Client) -> None:
    r = send(http, "POST", "/api/v1/pipelines", HOSTILE_BODIES[13][1], "application/json")
    assert r.status_code == 400
    assert "deep" in r.json()["error"]["message"]
    parseable = json.dumps({"spec": {"pipeline": {"name": "p"}, "metadata": [[[[]]]]}})
    deeper = parseable.replace("[[[[]]]]", "[" * 600 + "]" * 600)
    r = send(http, "POST", "/api/v1/pipelines/validate", deeper.encode(), "application/json")
    assert r.status_code == 400 and "nested too deep" in r.json()["error"]["message"], r.text


def test_unknown_routes_and_wrong_methods(http: httpx.Client) -> None:
    r = http.get("/api/v1/nope")
    assert r.status_code == 404
    assert r.json()["error"]["type"] == "RouteNotFound"
    r = http.patch("/api/v1/repos")
    assert r.status_code == 405
    assert r.json()["error"]["type"] == "MethodNotAllowed" and "GET" in r.headers["allow"]
    check(r, "wrong method")


def test_an_over_long_json_body_is_a_413(http: httpx.Client) -> None:
    big = b'{"name": "' + b"a" * (17 << 20) + b'"}'
    r = send(http, "POST", "/api/v1/projects/default/repos", big, "application/json")
    assert r.status_code == 413
    assert r.json()["error"]["type"] == "BodyTooLarge"

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit counts bytes received
        yield b'{"name": "'
        for _ in range(17):
            yield b"a" * (1 << 20)
        yield b'"}'

    with http.stream("POST", "/api/v1/projects/default/repos", content=chunks()) as r:
        r.read()
    assert r.status_code == 413, r.text
    check(r, "chunked, over the limit")


def test_file_contents_are_not_limited(http: httpx.Client) -> None:
    data = b"x" * (17 << 20)
    r = http.put("/api/v1/files/content", params={"ref": "r@master", "path": "/big"}, content=data)
    assert r.status_code == 200, r.text


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
field_names = st.sampled_from(("name", "ref", "spec", "repo", "branch", "timeout", "path"))
bodies = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    st.dictionaries(field_names, json_values, max_size=4).map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=64),
)
queries = st.dictionaries(
    st.sampled_from(("ref", "path", "pattern", "number", "tail", "since_id", "follow", "new")),
    st.text(max_size=12) | st.sampled_from(("9" * 30, "-1", "1e400", "nan", "r@master")),
    max_size=3,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_drawn_requests_to_every_route_are_never_5xx(
    http: httpx.Client, routes: list[Route], data: st.DataObject
) -> None:
    method, path = data.draw(st.sampled_from(routes))
    value = data.draw(st.sampled_from(PATH_VALUES) | st.text(min_size=1, max_size=12))
    url = fill(path, quote(value, safe="%@"))
    body = data.draw(bodies) if method in ("POST", "PUT", "DELETE") else None
    content_type = data.draw(st.sampled_from(("application/json", None, "text/plain")))
    check(send(http, method, url, body, content_type, data.draw(queries)), "drawn")


@pytest.mark.parametrize(
    "query",
    [
        "/api/v1/jobs?number=99999999999999999999999",
        "/api/v1/logs?since_id=99999999999999999999999",
        "/api/v1/logs?tail=99999999999999999999999",
        "/api/v1/commits?repo=r&number=99999999999999999999999",
        "/api/v1/jobs?number=abc",
    ],
)
def test_numbers_beyond_sqlite_in_queries(http: httpx.Client, query: str) -> None:
    r = http.get(query)
    check(r, "a huge number")
    assert r.status_code in (200, 400), r.text


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("file:///etc/passwd", "only http:// and https://"),  # never the server's own files
        ("http://[::1", "Invalid IPv6 URL"),
        ("http://h:abc/x", "nonnumeric port"),
        ("gopher://x", "only http:// and https://"),
    ],
)
def test_an_upload_url_the_server_must_not_or_cannot_fetch(
    http: httpx.Client, url: str, why: str
) -> None:
    upload = http.post("/api/v1/uploads", json={"ref": "r@master"}).json()["id"]
    r = http.post(f"/api/v1/uploads/{upload}/url", json={"path": "/x", "url": url})
    check(r, url)
    assert r.status_code == 400 and why in r.json()["error"]["message"], r.text
    http.delete(f"/api/v1/uploads/{upload}")


@pytest.mark.parametrize("timeout", ["NaN", "-1", "-Infinity"])
def test_a_wait_timeout_must_be_a_number_of_seconds(http: httpx.Client, timeout: str) -> None:
    body = f'{{"ref": "r@master", "timeout": {timeout}}}'.encode()
    r = send(http, "POST", "/api/v1/commit/wait", body, "application/json")
    assert r.status_code == 400 and "body.timeout" in r.json()["error"]["message"], r.text


def test_hostile_path_values(http: httpx.Client, routes: list[Route]) -> None:
    for method, path in routes:
        if "{" not in path or method != "GET":
            continue
        for value in PATH_VALUES:
            check(send(http, method, fill(path, value)), f"path value {value!r}")


def test_errors_decode_as_loxo_errors_in_the_client(server: ServerProc, tmp_path: Any) -> None:
    """The remote client raises the category's class for these errors too."""
    from loxo.client.transport import Transport
    from loxo.errors import InvalidArgumentError, NotFoundError

    t = Transport(server.http_url)
    try:
        with pytest.raises(InvalidArgumentError, match=r"body\.name"):
            t.post("/api/v1/projects/default/repos", {"name": 3})
        with pytest.raises(NotFoundError, match="no route"):
            t.get("/api/v1/nope")
    finally:
        t.close()


def test_the_remote_client_refuses_what_the_embedded_one_does(
    server: ServerProc, http: httpx.Client, tmp_path: Any
) -> None:
    """A ref as a repo name is invalid, not missing; a name never reaches another route
    (``x/branches/master`` would delete a branch)."""
    http.post("/api/v1/commit/start", json={"repo": "r"}).raise_for_status()
    http.post("/api/v1/commit/finish", json={"ref": "r@master"}).raise_for_status()
    with loxo.Client(tmp_path, address=server.http_url) as client:
        with pytest.raises(InvalidName, match=r"pass the repo \('r'\) and the branch"):
            client.start_commit("r@master")
        with pytest.raises(InvalidName, match="starts with '-'"):
            client.create_repo("-x")
        with pytest.raises(InvalidName, match="'/'"):
            client.delete_repo("r/branches/master")
        assert [b.name for b in client.list_branch("r")] == ["master"]
