"""Commits: start, finish, inspect, list, wait, delete and squash; commit sets.

A commit is a fileset root plus metadata. An *open* commit (``STARTED``) collects staged
operations in the DB; finishing folds them over the parent's fileset, writes the new root,
and flips the state, the root and the timestamps in one transaction. Readers of a branch only
ever see finished commits, so a crash at any moment leaves no half commit visible.

Commit IDs are shared across repos by a *commit set*: ``delete_commit(ID)`` and
``list_commit_set(ID)`` act on every commit with that ID.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from loxo.errors import (
    CommitNotOpen,
    CommitOpen,
    CommitSetNotFound,
    HasDependents,
    PreconditionError,
)
from loxo.storage.fileset import NodeRef, merge

from .core import (
    COMMIT_COLUMNS,
    DEFAULT_BRANCH,
    DEFAULT_PROJECT,
    CommitRow,
    Core,
    Resolved,
    encode_root,
    new_commit_id,
    now,
)
from .model import CommitID, CommitInfo, CommitRefInfo, CommitState, Origin
from .paths import validate_name
from .refs import CommitRef, is_commit_id
from .staging import Op, fold


class CommitOps(Core):
    # --- writing ------------------------------------------------------------------------

    def _check_writable(self, repo_id: int, repo: str) -> None:
        rtype = self.db.one("SELECT type FROM repos WHERE id = ?", (repo_id,))[0]
        if rtype != "user":
            raise PreconditionError(
                f"repo {repo!r} is a pipeline's {rtype} repo; only its pipeline writes to it"
            )

    def start_commit(
        self,
        repo: str,
        branch: str = DEFAULT_BRANCH,
        *,
        description: str = "",
        project: str = DEFAULT_PROJECT,
        commit_id: str | None = None,
        origin: Origin = Origin.USER,
        provenance: Sequence[tuple[int, str]] = (),
    ) -> CommitInfo:
        validate_name("branch", branch)
        with self.db.tx():
            repo_id = self._repo_id(repo, project)
            if origin == Origin.USER:
                self._check_writable(repo_id, repo)
            exists, head = self._branch_head(repo_id, branch)
            if head is not None and origin == Origin.USER:
                row = self._commit_row(repo_id, head)
                if row is not None and row.is_open:
                    raise CommitOpen(repo, branch, head)
            cid = commit_id or new_commit_id()
            root = self._commit_row(repo_id, head).root if head else None  # type: ignore[union-attr]
            self._insert_commit(repo_id, cid, branch, head, origin, description, root)
            self._set_head(repo_id, branch, cid, exists)
            self.db.executemany(
                "INSERT OR IGNORE INTO commit_provenance VALUES (?, ?, ?, ?)",
                [(repo_id, cid, fr, fc) for fr, fc in provenance],
            )
        return self.inspect_commit(CommitRef(repo, project, cid))

    def _insert_commit(
        self,
        repo_id: int,
        cid: str,
        branch: str,
        parent: str | None,
        origin: Origin,
        description: str,
        root: bytes | None,
        *,
        finished: bool = False,
        size: int = 0,
        count: int = 0,
    ) -> None:
        seq = self.db.one("SELECT COALESCE(MAX(seq), 0) + 1 FROM commits")[0]
        t = now()
        self.db.execute(
            f"INSERT INTO commits ({COMMIT_COLUMNS}) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                repo_id, cid, seq, branch, parent, str(origin), description,
                str(CommitState.FINISHED if finished else CommitState.STARTED),
                t, t if finished else None, t if finished else None, root, size, count, "",
            ),
        )  # fmt: skip

    def _set_head(self, repo_id: int, branch: str, cid: str, exists: bool) -> None:
        if exists:
            self.db.execute(
                "UPDATE branches SET head = ? WHERE repo_id = ? AND name = ?",
                (cid, repo_id, branch),
            )
        else:
            self.db.execute(
                "INSERT INTO branches (repo_id, name, head, created) VALUES (?, ?, ?, ?)",
                (repo_id, branch, cid, now()),
            )

    def _staged_ops(self, repo_id: int, cid: str) -> list[Op]:
        rows = self.db.all(
            "SELECT payload FROM staged_ops WHERE repo_id = ? AND commit_id = ? ORDER BY seq",
            (repo_id, cid),
        )
        return [Op.decode(r[0]) for r in rows]

    def _apply(self, parent_root: NodeRef | None, ops: list[Op]) -> NodeRef | None:
        changes = fold(self._reader(parent_root), ops)
        return merge(self.nodes, parent_root, sorted(changes.items()))

    def _parent_root(self, repo_id: int, row: CommitRow) -> NodeRef | None:
        if row.parent is None:
            return None
        parent = self._commit_row(repo_id, row.parent)
        return parent.root_ref if parent is not None else None

    def open_commit_root(self, res: Resolved) -> NodeRef | None:
        """The fileset an open commit would have if finished now (for its writer's reads)."""
        ops = self._staged_ops(res.repo_id, res.commit.id)
        return self._apply(self._parent_root(res.repo_id, res.commit), ops)

    def finish_commit(
        self, ref: str | CommitRef, *, description: str | None = None, error: str = ""
    ) -> CommitInfo:
        res = self.resolve(ref, for_read=False)
        row = res.commit
        if not row.is_open:
            raise CommitNotOpen(res.repo, row.id)
        while True:
            ops = self._staged_ops(res.repo_id, row.id)
            root = self._apply(self._parent_root(res.repo_id, row), ops)
            self.store.sync()
            with self.db.tx():
                if len(self._staged_ops(res.repo_id, row.id)) != len(ops):
                    continue  # a writer staged more meanwhile: fold again
                self.finish_commit_root(res.repo_id, row.id, root, error, description)
            break
        return self.inspect_commit(CommitRef(res.repo, res.project, row.id))

    def finish_commit_root(
        self,
        repo_id: int,
        commit_id: str,
        root: NodeRef | None,
        error: str = "",
        description: str | None = None,
    ) -> None:
        """Finish an open commit with a fileset root made elsewhere (pipeline output)."""
        with self.db.tx():
            fresh = self._commit_row(repo_id, commit_id)
            if fresh is None or not fresh.is_open:
                raise CommitNotOpen(self._repo_name(repo_id)[1], commit_id)
            t = now()
            self.db.execute(
                "UPDATE commits SET state = ?, finishing = ?, finished = ?, root = ?, "
                "size = ?, file_count = ?, error = ?, description = COALESCE(?, description) "
                "WHERE repo_id = ? AND id = ?",
                (
                    str(CommitState.FINISHED), t, t, encode_root(root),
                    root.size if root else 0, root.nfiles if root else 0, error,
                    description, repo_id, commit_id,
                ),
            )  # fmt: skip
            self.db.execute(
                "DELETE FROM staged_ops WHERE repo_id = ? AND commit_id = ?", (repo_id, commit_id)
            )
            if fresh.branch is not None and fresh.origin == Origin.USER:
                self._notify_head(repo_id, fresh.branch, CommitID(commit_id), new_set=False)

    def commit_ops(
        self,
        repo: str,
        branch: str,
        ops: list[Op],
        *,
        project: str = DEFAULT_PROJECT,
        description: str = "",
    ) -> CommitInfo:
        """Apply ``ops`` as writes: into the branch's open commit if it has one, otherwise as
        a new commit made atomically (started and finished in one transaction)."""
        validate_name("branch", branch)
        repo_id = self._repo_id(repo, project)
        self._check_writable(repo_id, repo)
        while True:
            _, head = self._branch_head(repo_id, branch)
            head_row = self._commit_row(repo_id, head) if head else None
            if head_row is not None and head_row.is_open:
                self._stage(repo_id, head_row, ops)
                return self.inspect_commit(CommitRef(repo, project, head_row.id))
            base = head_row.root_ref if head_row else None
            root = self._apply(base, ops)
            self.store.sync()
            with self.db.tx():
                exists, now_head = self._branch_head(repo_id, branch)
                if now_head != head:
                    continue  # someone committed meanwhile: rebase our ops on the new head
                cid = new_commit_id()
                self._insert_commit(
                    repo_id, cid, branch, head, Origin.USER, description, encode_root(root),
                    finished=True, size=root.size if root else 0, count=root.nfiles if root else 0,
                )  # fmt: skip
                self._set_head(repo_id, branch, cid, exists)
                self._notify_head(repo_id, branch, cid, new_set=False)
            return self.inspect_commit(CommitRef(repo, project, cid))

    def _stage(self, repo_id: int, row: CommitRow, ops: list[Op]) -> None:
        # validate against the commit as it stands, so a bad write fails now, not at finish
        fold(
            self._reader(
                self._apply(self._parent_root(repo_id, row), self._staged_ops(repo_id, row.id))
            ),
            ops,
        )
        with self.db.tx():
            fresh = self._commit_row(repo_id, row.id)
            if fresh is None or not fresh.is_open:
                raise CommitNotOpen(self._repo_name(repo_id)[1], row.id)
            seq = self.db.one(
                "SELECT COALESCE(MAX(seq), 0) FROM staged_ops WHERE repo_id = ? AND commit_id = ?",
                (repo_id, row.id),
            )[0]
            self.db.executemany(
                "INSERT INTO staged_ops (repo_id, commit_id, seq, payload) VALUES (?, ?, ?, ?)",
                [(repo_id, row.id, seq + i + 1, op.encode()) for i, op in enumerate(ops)],
            )

    # --- reading ------------------------------------------------------------------------

    def _info(self, repo_id: int, row: CommitRow) -> CommitInfo:
        project, repo = self._repo_name(repo_id)
        children = [
            r[0]
            for r in self.db.all(
                "SELECT id FROM commits WHERE repo_id = ? AND parent = ? ORDER BY seq",
                (repo_id, row.id),
            )
        ]
        prov = self.db.all(
            "SELECT r.project, r.name, p.from_commit_id FROM commit_provenance p JOIN repos r "
            "ON r.id = p.from_repo_id WHERE p.repo_id = ? AND p.commit_id = ?",
            (repo_id, row.id),
        )
        subv = self.db.all(
            "SELECT r.project, r.name, p.commit_id FROM commit_provenance p JOIN repos r "
            "ON r.id = p.repo_id WHERE p.from_repo_id = ? AND p.from_commit_id = ?",
            (repo_id, row.id),
        )
        size, count = row.size, row.file_count
        if row.is_open:
            root = self.open_commit_root(Resolved(project, repo, repo_id, row))
            size, count = (root.size, root.nfiles) if root else (0, 0)
        return CommitInfo(
            repo=repo,
            project=project,
            id=row.id,
            branch=row.branch,
            parent=row.parent,
            children=children,
            origin=Origin(row.origin),
            description=row.description,
            state=CommitState(row.state),
            started=row.started,
            finishing=row.finishing,
            finished=row.finished,
            size=size,
            file_count=count,
            error=row.error,
            provenance=[CommitRefInfo(n, CommitID(c), p) for p, n, c in prov],
            subvenance=[CommitRefInfo(n, CommitID(c), p) for p, n, c in subv],
        )

    def inspect_commit(self, ref: str | CommitRef) -> CommitInfo:
        res = self.resolve(ref, for_read=False)
        return self._info(res.repo_id, res.commit)

    def list_commit(
        self,
        repo: str | None = None,
        *,
        number: int = 0,
        from_commit: str | None = None,
        project: str = DEFAULT_PROJECT,
    ) -> list[CommitInfo]:
        """Commits newest first: a branch's history for ``repo@branch``, every commit of a
        repo for ``repo``, every commit of the project without a repo."""
        rows: list[tuple[int, CommitRow]]
        if repo is None:
            found = self.db.all(
                f"SELECT {COMMIT_COLUMNS} FROM commits c WHERE c.repo_id IN "
                "(SELECT id FROM repos WHERE project = ?) ORDER BY seq DESC",
                (project,),
            )
            rows = [(r[0], CommitRow(*r)) for r in found]
        else:
            cref = self.parse(repo)
            repo_id = self._repo_id(cref.repo, cref.project)
            if cref.ref is None:
                found = self.db.all(
                    f"SELECT {COMMIT_COLUMNS} FROM commits WHERE repo_id = ? ORDER BY seq DESC",
                    (repo_id,),
                )
                rows = [(repo_id, CommitRow(*r)) for r in found]
            else:
                head = self.resolve(cref, for_read=False).commit
                rows = [(repo_id, r) for r in self._ancestry(repo_id, head)]
        out: list[CommitInfo] = []
        for repo_id, row in rows:
            if from_commit is not None and row.id == from_commit:
                break
            out.append(self._info(repo_id, row))
            if number and len(out) >= number:
                break
        return out

    def list_commit_set(self, commit_id: str) -> list[CommitInfo]:
        cid = self._require_commit_id(commit_id)
        members = self._commit_set(cid)
        if not members:
            raise CommitSetNotFound(cid)
        return [self._info(repo_id, row) for repo_id, row in members]

    def wait_commit_set(self, commit_id: str, *, timeout: float | None = None) -> list[CommitInfo]:
        """Block until every commit of a commit set is finished."""
        return [
            self.wait_commit(CommitRef(c.repo, c.project, c.id), timeout=timeout)
            for c in self.list_commit_set(commit_id)
        ]

    def wait_commit(self, ref: str | CommitRef, *, timeout: float | None = None) -> CommitInfo:
        """Block until the commit is finished (another process may be finishing it)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = 0.01
        while True:
            info = self.inspect_commit(ref)
            if info.state == CommitState.FINISHED:
                return info
            if deadline is not None and time.monotonic() > deadline:
                raise PreconditionError(
                    f"commit {info.repo}@{info.id} still {info.state} after {timeout}s"
                )
            time.sleep(delay)
            delay = min(delay * 2, 0.5)

    # --- removing -----------------------------------------------------------------------

    def _set_members(self, ref: str) -> list[tuple[int, CommitRow]]:
        if is_commit_id(ref):
            members = self._commit_set(ref)
            if members:
                return members
        res = self.resolve(ref, for_read=False)
        return [(res.repo_id, res.commit)]

    def _dependents(self, members: list[tuple[int, CommitRow]], *, children: bool) -> None:
        ids = {(r, c.id) for r, c in members}
        for repo_id, row in members:
            repo = self._repo_name(repo_id)[1]
            for sub_repo, sub_id in self.db.all(
                "SELECT repo_id, commit_id FROM commit_provenance "
                "WHERE from_repo_id = ? AND from_commit_id = ?",
                (repo_id, row.id),
            ):
                if (sub_repo, sub_id) not in ids:
                    raise HasDependents(
                        f"commit {repo}@{row.id}",
                        f"commit {self._repo_name(sub_repo)[1]}@{sub_id} was made from it",
                    )
            if children and self.db.one(
                "SELECT 1 FROM commits WHERE repo_id = ? AND parent = ?", (repo_id, row.id)
            ):
                raise HasDependents(
                    f"commit {repo}@{row.id}",
                    "it has child commits; squash it instead, or delete the children first",
                )

    def delete_commit(self, ref: str) -> list[CommitInfo]:
        """Delete a commit (or a whole commit set) that has no children and nothing made
        from it; branch heads on it move back to its parent. An open commit is aborted."""
        with self.db.tx():
            members = self._set_members(ref)
            infos = [self._info(r, c) for r, c in members]
            self._dependents(members, children=True)
            for repo_id, row in members:
                self.db.execute(
                    "UPDATE branches SET head = ? WHERE repo_id = ? AND head = ?",
                    (row.parent, repo_id, row.id),
                )
                self._drop(repo_id, row.id)
        return infos

    def squash_commit(self, ref: str) -> list[CommitInfo]:
        """Fold a commit into its children: they keep their content (each commit is a full
        snapshot) and take its parent as theirs; the commit itself disappears."""
        with self.db.tx():
            members = self._set_members(ref)
            infos = [self._info(r, c) for r, c in members]
            self._dependents(members, children=False)
            for repo_id, row in members:
                repo = self._repo_name(repo_id)[1]
                if row.is_open:
                    raise PreconditionError(f"commit {repo}@{row.id} is open; finish it first")
                if not self.db.one(
                    "SELECT 1 FROM commits WHERE repo_id = ? AND parent = ?", (repo_id, row.id)
                ):
                    raise PreconditionError(
                        f"commit {repo}@{row.id} has no children to squash into; "
                        "use `loxo delete commit` to remove it"
                    )
                heads = self.db.all(
                    "SELECT name FROM branches WHERE repo_id = ? AND head = ?", (repo_id, row.id)
                )
                if heads:
                    raise HasDependents(
                        f"commit {repo}@{row.id}", f"it is the head of branch {heads[0][0]!r}"
                    )
                self.db.execute(
                    "UPDATE commits SET parent = ? WHERE repo_id = ? AND parent = ?",
                    (row.parent, repo_id, row.id),
                )
                self._drop(repo_id, row.id)
        return infos

    def _drop(self, repo_id: int, cid: str) -> None:
        for sql in (
            "DELETE FROM staged_ops WHERE repo_id = ? AND commit_id = ?",
            "DELETE FROM commit_provenance WHERE repo_id = ? AND commit_id = ?",
            "DELETE FROM commits WHERE repo_id = ? AND id = ?",
        ):
            self.db.execute(sql, (repo_id, cid))
