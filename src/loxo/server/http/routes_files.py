"""Files: listing, reading (streamed), writing (streamed, single requests or upload
sessions), diff, glob, copy and delete."""

from __future__ import annotations

import mimetypes
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse

from loxo.errors import InvalidArgumentError
from loxo.pfs.model import CommitInfo, DiffEntry, FileInfo

from . import bodies
from .common import BodyReader, Svc, ok
from .streams import RAW_BODY, from_writer
from .uploads import Uploads

router = APIRouter(prefix="/api/v1", tags=["files"])


def _uploads(request: Request) -> Uploads:
    uploads: Uploads = request.app.state.uploads
    return uploads


@router.get("/files/list", response_model=list[FileInfo])
def list_file(svc: Svc, ref: str, path: str | None = None) -> JSONResponse:
    """The entries of a directory (or the one file at ``path``)."""
    return ok(svc.list_file(ref, path))


@router.get("/files/info", response_model=FileInfo)
def inspect_file(svc: Svc, ref: str, path: str | None = None) -> JSONResponse:
    return ok(svc.inspect_file(ref, path))


@router.get("/files/walk")
def walk_files(svc: Svc, ref: str, path: str | None = None) -> JSONResponse:
    """Every file at or under ``path``: ``[{path, size, hash}]`` in path order."""
    return ok([{"path": e.path, "size": e.size, "hash": e.hash} for e in svc.walk_files(ref, path)])


@router.get("/files/glob", response_model=list[FileInfo])
def glob_file(svc: Svc, ref: str, pattern: str) -> JSONResponse:
    return ok(svc.glob_file(ref, pattern))


@router.get("/files/diff", response_model=list[DiffEntry])
def diff_file(svc: Svc, new: str, old: str | None = None, path: str | None = None) -> JSONResponse:
    """What changed from ``old`` (default: the parent of ``new``) to ``new``."""
    return ok(svc.diff_file(new, old, path))


@router.get(
    "/files/content",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def get_file(
    svc: Svc,
    ref: str,
    path: str | None = None,
    download: bool = False,
    offset: int = 0,
    length: int | None = None,
) -> Any:
    """The bytes of one file, streamed (verified chunk by chunk); ``offset`` and ``length``
    select a byte range (only the chunks overlapping it are read)."""
    info = svc.inspect_file(ref, path)
    chunks = svc.iter_file(ref, path, offset=offset, length=length)
    name = PurePosixPath(info.path).name or "file"
    size = max(0, min(info.size, offset + (info.size if length is None else length)) - offset)
    headers = {"Content-Length": str(size), "X-Loxo-Hash": info.hash}
    if download:
        headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    media = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return StreamingResponse(chunks, media_type=media, headers=headers)


@router.get(
    "/files/tar",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-tar": {}}}},
)
def get_file_tar(svc: Svc, ref: str, path: str | None = None) -> Any:
    """A file or a tree as an uncompressed tar stream."""
    svc.inspect_file(ref, path)  # a missing path fails here, before the stream starts
    return StreamingResponse(
        from_writer(lambda out: svc.get_file_tar(ref, path, out)), media_type="application/x-tar"
    )


@router.put("/files/content", response_model=CommitInfo, openapi_extra=RAW_BODY)
async def put_file(
    request: Request, svc: Svc, ref: str, path: str, append: bool = False
) -> JSONResponse:
    """Write one file from the request body (streamed) as a commit on ``ref``'s branch."""
    body = BodyReader(request)
    info = await anyio.to_thread.run_sync(
        lambda: svc.put_file(ref, path, body.as_file(), append=append)
    )
    return ok(info)


@router.delete("/files", response_model=CommitInfo)
def delete_file(svc: Svc, ref: str, path: str) -> JSONResponse:
    return ok(svc.delete_file(ref, path))


@router.post("/files/copy", response_model=CommitInfo)
def copy_file(svc: Svc, body: bodies.CopyFile) -> JSONResponse:
    return ok(svc.copy_file(body.src, body.dst_ref, body.dst_path))


# --- upload sessions: many operations, one commit ----------------------------------------


@router.post("/uploads", status_code=201)
def open_upload(request: Request, svc: Svc, body: bodies.OpenUpload) -> JSONResponse:
    """Open a write session on a branch; returns ``{"id": ...}``."""
    upload_id = _uploads(request).open(svc.modify_file(body.ref, description=body.description))
    return ok({"id": upload_id}, 201)


@router.put("/uploads/{upload_id}/file", openapi_extra=RAW_BODY)
async def upload_file(
    request: Request, upload_id: str, path: str, append: bool = False
) -> JSONResponse:
    upload = _uploads(request).get(upload_id)
    body = BodyReader(request)

    def put() -> None:
        with upload.lock:
            upload.mf.put_file(path, body.as_file(), append=append)

    await anyio.to_thread.run_sync(put)
    return ok({"path": path, "bytes": body.received})


@router.put("/uploads/{upload_id}/tar", openapi_extra=RAW_BODY)
async def upload_tar(request: Request, upload_id: str, dest: str = "/") -> JSONResponse:
    """Expand a tar stream under ``dest``."""
    upload = _uploads(request).get(upload_id)
    body = BodyReader(request)

    def put() -> int:
        with upload.lock:
            return upload.mf.put_tar(dest, body.as_file())

    files = await anyio.to_thread.run_sync(put)
    return ok({"files": files, "bytes": body.received})


@router.post("/uploads/{upload_id}/url")
def upload_url(request: Request, upload_id: str, body: bodies.UploadURL) -> JSONResponse:
    """Fetch an ``http(s)://`` URL (from the server) into ``path``."""
    if not body.url.startswith(("http://", "https://")):  # never the server's own files
        raise InvalidArgumentError(
            f"the server fetches only http:// and https:// URLs, not {body.url!r}; send a "
            "local file's bytes with PUT /api/v1/uploads/{id}/file"
        )
    upload = _uploads(request).get(upload_id)
    with upload.lock:
        n = upload.mf.put_url(body.path, body.url, untar=body.untar, append=body.append)
    return ok({"files": n})


@router.post("/uploads/{upload_id}/copy")
def upload_copy(request: Request, upload_id: str, body: bodies.UploadCopy) -> JSONResponse:
    upload = _uploads(request).get(upload_id)
    with upload.lock:
        n = upload.mf.copy_file(body.src, body.dst)
    return ok({"files": n})


@router.delete("/uploads/{upload_id}/file")
def upload_delete(request: Request, upload_id: str, path: str) -> JSONResponse:
    upload = _uploads(request).get(upload_id)
    with upload.lock:
        upload.mf.delete_file(path)
    return ok({"path": path})


@router.post("/uploads/{upload_id}/finish", response_model=CommitInfo)
def finish_upload(request: Request, upload_id: str) -> JSONResponse:
    """Apply every operation of the session as one commit."""
    return ok(_uploads(request).finish(upload_id))


@router.delete("/uploads/{upload_id}")
def abort_upload(request: Request, upload_id: str) -> JSONResponse:
    _uploads(request).abort(upload_id)
    return ok({"aborted": upload_id})
