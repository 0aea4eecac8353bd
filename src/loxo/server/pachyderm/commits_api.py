"""``pfs_v2.API``: commits and commit sets (start, finish, inspect with wait, list,
subscribe, squash, drop). Waiting only polls (:mod:`.waiting`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from betterproto.lib.google.protobuf import Empty
from pachyderm_sdk.api import pfs

from loxo.errors import BranchNotFound, CommitNotFound, InvalidArgumentError
from loxo.pfs.model import CommitInfo, CommitState

from . import convert_pfs as conv
from .rpc import Ctx, Table
from .waiting import pause, wait_until

if TYPE_CHECKING:
    from loxo.service import Service

SUBSCRIBE_POLL = 0.2


def _finished(infos: list[CommitInfo]) -> bool:
    return all(c.state == CommitState.FINISHED for c in infos)


class CommitApi:
    def __init__(self, svc: Service) -> None:
        self.svc = svc

    def table(self) -> Table:
        s = "pfs_v2.API/"
        return {
            s + "StartCommit": (pfs.StartCommitRequest, self.start_commit),
            s + "FinishCommit": (pfs.FinishCommitRequest, self.finish_commit),
            s + "InspectCommit": (pfs.InspectCommitRequest, self.inspect_commit),
            s + "ListCommit": (pfs.ListCommitRequest, self.list_commit),
            s + "SubscribeCommit": (pfs.SubscribeCommitRequest, self.subscribe_commit),
            s + "SquashCommit": (pfs.SquashCommitRequest, self.squash_commit),
            s + "DropCommit": (pfs.DropCommitRequest, self.drop_commit),
            s + "InspectCommitSet": (pfs.InspectCommitSetRequest, self.inspect_commit_set),
            s + "ListCommitSet": (pfs.ListCommitSetRequest, self.list_commit_set),
            s + "SquashCommitSet": (pfs.SquashCommitSetRequest, self.squash_commit_set),
            s + "DropCommitSet": (pfs.DropCommitSetRequest, self.drop_commit_set),
        }

    # --- one commit ---------------------------------------------------------------------

    def start_commit(self, req: pfs.StartCommitRequest, ctx: Ctx) -> pfs.Commit:
        branch = req.branch if req.branch else (req.parent.branch if req.parent else None)
        project, repo, name = conv.branch_ref(branch)
        info = self.svc.start_commit(repo, name, description=req.description, project=project)
        return conv.commit_of(info)

    def finish_commit(self, req: pfs.FinishCommitRequest, ctx: Ctx) -> Empty:
        self.svc.finish_commit(
            conv.commit_text(req.commit), description=req.description or None, error=req.error
        )
        return Empty()

    def inspect_commit(self, req: pfs.InspectCommitRequest, ctx: Ctx) -> pfs.CommitInfo:
        ref = conv.commit_text(req.commit)
        want = conv.WAIT_RANK.get(req.wait, 0)
        info = wait_until(
            ctx, lambda: self.svc.inspect_commit(ref), lambda c: conv.STATE_RANK[c.state] >= want
        )
        return conv.commit_info(info)

    def list_commit(self, req: pfs.ListCommitRequest, ctx: Ctx) -> Iterator[pfs.CommitInfo]:
        ref = conv.commit_text(req.to) if req.to else conv.repo_text(req.repo)
        since = self.svc.inspect_commit(conv.commit_text(req.from_)).id if req.from_ else None
        whole = req.reverse or bool(req.origin_kind)  # the limit applies after these
        commits = self.svc.list_commit(ref, number=0 if whole else req.number, from_commit=since)
        if req.origin_kind:
            commits = [c for c in commits if conv.ORIGINS.get(c.origin) == req.origin_kind]
        if req.reverse:
            commits.reverse()
        for c in commits[: req.number or None]:
            yield conv.commit_info(c)

    def subscribe_commit(
        self, req: pfs.SubscribeCommitRequest, ctx: Ctx
    ) -> Iterator[pfs.CommitInfo]:
        """Commits of a branch oldest first, then each new one as it reaches ``state``,
        until the caller cancels."""
        text = conv.repo_text(req.repo) + (f"@{req.branch}" if req.branch else "")
        want = conv.WAIT_RANK.get(req.state, 0)
        seen: set[str] = set()
        if req.from_:
            start = self.svc.inspect_commit(conv.commit_text(req.from_)).id
            history = [c.id for c in reversed(self._history(text))]
            seen.update(history[: history.index(start) + 1] if start in history else ())
        while True:
            for c in reversed(self._history(text)):
                if c.id in seen or conv.STATE_RANK[c.state] < want:
                    continue
                if req.origin_kind and conv.ORIGINS.get(c.origin) != req.origin_kind:
                    continue
                seen.add(c.id)
                yield conv.commit_info(c)
            pause(ctx, SUBSCRIBE_POLL)

    def _history(self, text: str) -> list[CommitInfo]:
        try:
            return self.svc.list_commit(text)
        except (BranchNotFound, CommitNotFound):
            return []  # the branch has no commits yet: they will come

    def squash_commit(self, req: pfs.SquashCommitRequest, ctx: Ctx) -> pfs.SquashCommitResponse:
        self.svc.squash_commit(self._target(req.commit, req.recursive))
        return pfs.SquashCommitResponse()

    def drop_commit(self, req: pfs.DropCommitRequest, ctx: Ctx) -> pfs.DropCommitResponse:
        self.svc.delete_commit(self._target(req.commit, req.recursive))
        return pfs.DropCommitResponse()

    def _target(self, commit: pfs.Commit, recursive: bool) -> str:
        """``repo@id``, or with ``recursive`` the whole commit set (the commit and what was
        computed from it)."""
        text = conv.commit_text(commit)
        return self.svc.inspect_commit(text).id if recursive else text

    # --- commit sets --------------------------------------------------------------------

    def inspect_commit_set(
        self, req: pfs.InspectCommitSetRequest, ctx: Ctx
    ) -> Iterator[pfs.CommitInfo]:
        set_id = _set_id(req.commit_set)
        commits = wait_until(
            ctx,
            lambda: self.svc.list_commit_set(set_id),
            lambda infos: not req.wait or _finished(infos),
        )
        for c in commits:
            yield conv.commit_info(c)

    def list_commit_set(
        self, req: pfs.ListCommitSetRequest, ctx: Ctx
    ) -> Iterator[pfs.CommitSetInfo]:
        sets: dict[str, list[CommitInfo]] = {}
        for c in self.svc.list_commit(project=conv.project_name(req.project)):
            sets.setdefault(c.id, []).append(c)
        for set_id, commits in sets.items():
            yield pfs.CommitSetInfo(
                commit_set=pfs.CommitSet(id=set_id), commits=[conv.commit_info(c) for c in commits]
            )

    def squash_commit_set(self, req: pfs.SquashCommitSetRequest, ctx: Ctx) -> Empty:
        self.svc.squash_commit(_set_id(req.commit_set))
        return Empty()

    def drop_commit_set(self, req: pfs.DropCommitSetRequest, ctx: Ctx) -> Empty:
        self.svc.delete_commit(_set_id(req.commit_set))
        return Empty()


def _set_id(commit_set: pfs.CommitSet | None) -> str:
    if commit_set is None or not commit_set.id:
        raise InvalidArgumentError("the request names no commit set (set commit_set.id)")
    return commit_set.id
