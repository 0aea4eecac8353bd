"""The remote client's versioned-file-system half: projects, repos, branches, commits and
files over the HTTP API (file bytes stream both ways; writes go through upload sessions,
:mod:`.remote_files`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import httpx

from loxo.pfs.model import BranchInfo, CommitInfo, DiffEntry, FileInfo, RepoInfo
from loxo.storage.fileset import FileEntry

from .remote_files import RemoteModifyFile, copy_tar, extract_tar, stream_file
from .transport import CHUNK, Transport, ident, named, project_url, repo_url
from .wire import decode, decode_list


class RemotePFS(Transport):
    # --- projects, repos, branches ------------------------------------------------------

    def list_project(self) -> list[str]:
        return list(self.get("/api/v1/projects"))

    def create_project(self, name: str, description: str = "") -> None:
        self.post("/api/v1/projects", {"name": name, "description": description})

    def create_repo(
        self,
        name: str,
        description: str = "",
        *,
        project: str = "default",
        update: bool = False,
        repo_type: str = "user",
    ) -> RepoInfo:
        body = {"name": name, "description": description, "update": update, "type": repo_type}
        return decode(RepoInfo, self.post(project_url(project) + "/repos", body))

    def inspect_repo(self, name: str, *, project: str = "default") -> RepoInfo:
        return decode(RepoInfo, self.get(repo_url(project, name)))

    def list_repo(
        self, *, project: str | None = "default", all_types: bool = False
    ) -> list[RepoInfo]:
        url = "/api/v1/repos" if project is None else project_url(project) + "/repos"
        return decode_list(RepoInfo, self.get(url, all_types=all_types))

    def update_repo(self, name: str, description: str, *, project: str = "default") -> RepoInfo:
        body = {"description": description}
        url = repo_url(project, name)
        return decode(RepoInfo, self.request("PUT", url, json=body))

    def delete_repo(self, name: str, *, project: str = "default", force: bool = False) -> None:
        url = repo_url(project, name)
        self.request("DELETE", url, params={"force": force})

    def create_branch(
        self,
        repo: str,
        branch: str,
        *,
        head: str | None = None,
        project: str = "default",
        must_not_exist: bool = False,
    ) -> BranchInfo:
        body = {"name": branch, "head": head, "must_not_exist": must_not_exist}
        url = repo_url(project, repo) + "/branches"
        return decode(BranchInfo, self.post(url, body))

    def inspect_branch(
        self, repo: str, branch: str = "master", *, project: str = "default"
    ) -> BranchInfo:
        url = repo_url(project, repo) + f"/branches/{named('branch', branch)}"
        return decode(BranchInfo, self.get(url))

    def list_branch(self, repo: str, *, project: str = "default") -> list[BranchInfo]:
        url = repo_url(project, repo) + "/branches"
        return decode_list(BranchInfo, self.get(url))

    def delete_branch(self, repo: str, branch: str, *, project: str = "default") -> None:
        self.request("DELETE", repo_url(project, repo) + f"/branches/{named('branch', branch)}")

    # --- commits ----------------------------------------------------------------------

    def start_commit(
        self,
        repo: str,
        branch: str = "master",
        *,
        description: str = "",
        project: str = "default",
        **_: Any,
    ) -> CommitInfo:
        body = {"repo": repo, "branch": branch, "description": description, "project": project}
        return decode(CommitInfo, self.post("/api/v1/commit/start", body))

    def finish_commit(
        self, ref: Any, *, description: str | None = None, error: str = ""
    ) -> CommitInfo:
        body = {"ref": str(ref), "description": description, "error": error}
        return decode(CommitInfo, self.post("/api/v1/commit/finish", body))

    def inspect_commit(self, ref: Any) -> CommitInfo:
        return decode(CommitInfo, self.get("/api/v1/commit", ref=str(ref)))

    def list_commit(
        self,
        repo: str | None = None,
        *,
        number: int = 0,
        from_commit: str | None = None,
        project: str = "default",
    ) -> list[CommitInfo]:
        data = self.get(
            "/api/v1/commits", project=project, repo=repo, number=number, from_commit=from_commit
        )
        return decode_list(CommitInfo, data)

    def wait_commit(self, ref: Any, *, timeout: float | None = None) -> CommitInfo:
        body = {"ref": str(ref), "timeout": timeout}
        return decode(CommitInfo, self.post("/api/v1/commit/wait", body, wait=True))

    def squash_commit(self, ref: str) -> list[CommitInfo]:
        return decode_list(CommitInfo, self.post("/api/v1/commit/squash", {"ref": ref}))

    def delete_commit(self, ref: str) -> list[CommitInfo]:
        return decode_list(CommitInfo, self.post("/api/v1/commit/delete", {"ref": ref}))

    def list_commit_set(self, commit_id: str) -> list[CommitInfo]:
        return decode_list(CommitInfo, self.get(f"/api/v1/commitsets/{ident(commit_id)}"))

    def wait_commit_set(self, commit_id: str, *, timeout: float | None = None) -> list[CommitInfo]:
        url = f"/api/v1/commitsets/{ident(commit_id)}/wait"
        return decode_list(CommitInfo, self.post(url, {"timeout": timeout}, wait=True))

    # --- files ------------------------------------------------------------------------

    def modify_file(
        self, ref: str, *, description: str = "", progress: Callable[[int], None] | None = None
    ) -> RemoteModifyFile:
        return RemoteModifyFile(self, ref, description=description, progress=progress)

    def put_file(
        self, ref: str, path: str, data: bytes | BinaryIO, *, append: bool = False
    ) -> CommitInfo:
        content = data if isinstance(data, bytes) else stream_file(data)
        params = {"ref": ref, "path": path, "append": append}
        return decode(
            CommitInfo,
            self.request("PUT", "/api/v1/files/content", params=params, content=content, wait=True),
        )

    def iter_file(
        self, ref: Any, path: str | None = None, *, offset: int = 0, length: int | None = None
    ) -> Iterator[bytes]:
        params: dict[str, Any] = {"ref": str(ref), **({"path": path} if path else {})}
        if offset:
            params["offset"] = offset
        if length is not None:
            params["length"] = length
        try:
            request = self.http.build_request("GET", "/api/v1/files/content", params=params)
            response = self.http.send(request, stream=True)
        except httpx.TransportError as err:
            raise self.unreachable(err) from err
        if not response.is_success:
            response.read()
            response.close()
            self.check(response)
        return self._chunks(response, f"{ref}:{path}" if path else str(ref))

    def _chunks(self, response: httpx.Response, what: str) -> Iterator[bytes]:
        try:
            yield from response.iter_bytes(CHUNK)
        except httpx.TransportError as err:
            raise self.broke_off(what, err) from err
        finally:
            response.close()

    def get_file(self, ref: Any, path: str | None = None) -> bytes:
        return b"".join(self.iter_file(ref, path))

    def _tar_stream(self, ref: str, path: str | None) -> Iterator[bytes]:
        params = {"ref": ref, **({"path": path} if path else {})}
        try:
            with self.http.stream("GET", "/api/v1/files/tar", params=params, timeout=None) as r:
                if not r.is_success:
                    r.read()
                    self.check(r)
                yield from self._chunks(r, f"the tar of {ref}" + (f":{path}" if path else ""))
        except httpx.TransportError as err:
            raise self.unreachable(err) from err

    def get_file_tar(self, ref: str, path: str | None, out: BinaryIO) -> int:
        """Write the tar stream to ``out``; the number of files in it."""
        return copy_tar(self._tar_stream(ref, path), out)

    def get_file_to_dir(
        self,
        ref: str,
        path: str | None,
        dest: str | Path,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        return extract_tar(self._tar_stream(ref, path), Path(dest), progress)

    def list_file(self, ref: Any, path: str | None = None) -> list[FileInfo]:
        return decode_list(FileInfo, self.get("/api/v1/files/list", ref=str(ref), path=path))

    def inspect_file(self, ref: Any, path: str | None = None) -> FileInfo:
        return decode(FileInfo, self.get("/api/v1/files/info", ref=str(ref), path=path))

    def walk_files(self, ref: Any, path: str | None = None) -> Iterator[FileEntry]:
        for e in self.get("/api/v1/files/walk", ref=str(ref), path=path):
            yield FileEntry(e["path"], e["size"], e["hash"], ())

    def glob_file(self, ref: Any, pattern: str) -> list[FileInfo]:
        return decode_list(FileInfo, self.get("/api/v1/files/glob", ref=str(ref), pattern=pattern))

    def diff_file(
        self, new_ref: str, old_ref: str | None = None, path: str | None = None
    ) -> list[DiffEntry]:
        data = self.get("/api/v1/files/diff", new=new_ref, old=old_ref, path=path)
        return decode_list(DiffEntry, data)

    def delete_file(self, ref: str, path: str) -> CommitInfo:
        params = {"ref": ref, "path": path}
        return decode(CommitInfo, self.request("DELETE", "/api/v1/files", params=params))

    def copy_file(self, src: str, dst_ref: str, dst_path: str) -> CommitInfo:
        body = {"src": src, "dst_ref": dst_ref, "dst_path": dst_path}
        return decode(CommitInfo, self.post("/api/v1/files/copy", body))
