"""``pfs_v2.API``: reading files (GetFile, GetFileTAR, InspectFile, ListFile, WalkFile,
GlobFile, DiffFile). Writing is :mod:`.modify`.

Content streams as ``BytesValue`` messages of at most :data:`PIECE` bytes, so any gRPC
client with the default 4 MiB message limit can read it. ``GetFileTAR`` writes a tar stream
the way pachd does: absolute member names (``/dir/file``), a directory entry before the
first file under it, one pass, without buffering whole files.
"""

from __future__ import annotations

import re
import tarfile
from collections.abc import Iterator
from typing import TYPE_CHECKING

from betterproto.lib.google.protobuf import BytesValue
from pachyderm_sdk.api import pfs

from loxo.pfs.model import FileInfo, FileType

from . import convert_pfs as conv
from .errors import Unsupported
from .rpc import Ctx, Table

if TYPE_CHECKING:
    from loxo.service import Service

PIECE = 1024 * 1024
_GLOB_SYNTAX = re.compile(r"([\\*?\[\]{}()|+@!])")


def _pieces(chunks: Iterator[bytes], skip: int = 0) -> Iterator[BytesValue]:
    for chunk in chunks:
        if skip >= len(chunk):
            skip -= len(chunk)
            continue
        view, skip = memoryview(chunk)[skip:], 0
        for i in range(0, len(view), PIECE):
            yield BytesValue(value=bytes(view[i : i + PIECE]))


def _page(
    infos: list[FileInfo], marker: pfs.File | None, number: int, reverse: bool
) -> list[FileInfo]:
    """Pachyderm's paging: entries after ``marker`` (before it with ``reverse``), at most
    ``number``."""
    if reverse:
        infos = infos[::-1]
    if marker:
        after = marker.path.rstrip("/")
        infos = [f for f in infos if (f.path < after if reverse else f.path > after)]
    return infos[:number] if number > 0 else infos


class FileApi:
    def __init__(self, svc: Service) -> None:
        self.svc = svc

    def table(self) -> Table:
        s = "pfs_v2.API/"
        return {
            s + "GetFile": (pfs.GetFileRequest, self.get_file),
            s + "GetFileTAR": (pfs.GetFileRequest, self.get_file_tar),
            s + "InspectFile": (pfs.InspectFileRequest, self.inspect_file),
            s + "ListFile": (pfs.ListFileRequest, self.list_file),
            s + "WalkFile": (pfs.WalkFileRequest, self.walk_file),
            s + "GlobFile": (pfs.GlobFileRequest, self.glob_file),
            s + "DiffFile": (pfs.DiffFileRequest, self.diff_file),
        }

    def get_file(self, req: pfs.GetFileRequest, ctx: Ctx) -> Iterator[BytesValue]:
        if req.url or req.path_range:
            raise Unsupported("GetFile into a URL or over a path range (url, path_range)")
        ref, path = conv.file_ref(req.file)
        yield from _pieces(self.svc.iter_file(ref, path), req.offset)

    def get_file_tar(self, req: pfs.GetFileRequest, ctx: Ctx) -> Iterator[BytesValue]:
        if req.url:
            raise Unsupported("GetFileTAR into a URL (GetFileRequest.url)")
        ref, path = conv.file_ref(req.file)
        top = self.svc.inspect_file(ref, path)  # pins the commit, fails early if missing
        pinned = f"{ref.partition('@')[0]}@{top.commit}"
        dirs: set[str] = set()
        for entry in self.svc.walk_files(pinned, top.path):
            for d in _parents(entry.path, top.path):
                if d not in dirs:
                    dirs.add(d)
                    yield BytesValue(value=_header(d + "/", 0, tarfile.DIRTYPE))
            yield BytesValue(value=_header(entry.path, entry.size, tarfile.REGTYPE))
            yield from _pieces(self.svc.iter_file(pinned, entry.path))
            if entry.size % tarfile.BLOCKSIZE:
                yield BytesValue(value=bytes(tarfile.BLOCKSIZE - entry.size % tarfile.BLOCKSIZE))
        yield BytesValue(value=bytes(2 * tarfile.BLOCKSIZE))

    def inspect_file(self, req: pfs.InspectFileRequest, ctx: Ctx) -> pfs.FileInfo:
        ref, path = conv.file_ref(req.file)
        info = self.svc.inspect_file(ref, path)
        return conv.file_info(info, conv.in_commit(req.file.commit, info.commit or ""))

    def list_file(self, req: pfs.ListFileRequest, ctx: Ctx) -> Iterator[pfs.FileInfo]:
        ref, path = conv.file_ref(req.file)
        infos = self.svc.list_file(ref, path)
        for info in _page(infos, req.pagination_marker, req.number, req.reverse):
            yield conv.file_info(info, conv.in_commit(req.file.commit, info.commit or ""))

    def walk_file(self, req: pfs.WalkFileRequest, ctx: Ctx) -> Iterator[pfs.FileInfo]:
        """The file or directory, then (for a directory) everything under it, directories
        included, in tree order."""
        ref, path = conv.file_ref(req.file)
        top = self.svc.inspect_file(ref, path)
        infos = [top]
        if top.type == FileType.DIR:
            under = "" if top.path == "/" else _GLOB_SYNTAX.sub(r"\\\1", top.path)
            infos += self.svc.glob_file(f"{ref.partition('@')[0]}@{top.commit}", under + "/**")
        for info in _page(infos, req.pagination_marker, req.number, req.reverse):
            yield conv.file_info(info, conv.in_commit(req.file.commit, info.commit or ""))

    def glob_file(self, req: pfs.GlobFileRequest, ctx: Ctx) -> Iterator[pfs.FileInfo]:
        for info in self.svc.glob_file(conv.commit_text(req.commit), req.pattern):
            yield conv.file_info(info, conv.in_commit(req.commit, info.commit or ""))

    def diff_file(self, req: pfs.DiffFileRequest, ctx: Ctx) -> Iterator[pfs.DiffFileResponse]:
        new_ref, path = conv.file_ref(req.new_file)
        old_ref = conv.file_ref(req.old_file)[0] if req.old_file else None
        new = self.svc.inspect_commit(new_ref)
        old_id = self.svc.inspect_commit(old_ref).id if old_ref else (new.parent or "")
        new_commit = conv.in_commit(req.new_file.commit, new.id)
        old_commit = conv.in_commit(req.old_file.commit if req.old_file else req.new_file.commit,
                                    old_id)  # fmt: skip
        for d in self.svc.diff_file(new_ref, old_ref, path):
            msg = pfs.DiffFileResponse()
            if d.new is not None:
                msg.new_file = conv.file_info(d.new, new_commit)
            if d.old is not None:
                msg.old_file = conv.file_info(d.old, old_commit)
            yield msg


def _parents(path: str, top: str) -> list[str]:
    """The directories holding ``path`` at or under ``top``, outermost first."""
    parts = path.strip("/").split("/")[:-1]
    dirs = ["/" + "/".join(parts[: i + 1]) for i in range(len(parts))]
    base = top.rstrip("/")
    return [d for d in dirs if d == base or d.startswith(base + "/")]


def _header(name: str, size: int, kind: bytes) -> bytes:
    info = tarfile.TarInfo(name)
    info.size, info.type = size, kind
    info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
