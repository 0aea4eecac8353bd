"""``pps_v2.API``: pipelines (create from a message or from JSON, inspect, list, delete,
start, stop, rerun, run cron). Jobs, datums and logs: :mod:`.jobs_api`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING

from betterproto.lib.google.protobuf import Empty
from pachyderm_sdk.api import pps

from loxo.errors import InvalidArgumentError
from loxo.pps.model import PipelineInfo
from loxo.pps.pipelines import PipelineNotFound

from . import convert_pps as conv
from .convert_pfs import project_name
from .errors import Unsupported
from .rpc import Ctx, Table

if TYPE_CHECKING:
    from loxo.service import Service


class PipelineApi:
    def __init__(self, svc: Service) -> None:
        self.svc = svc

    def table(self) -> Table:
        s = "pps_v2.API/"
        return {
            s + "CreatePipeline": (pps.CreatePipelineRequest, self.create_pipeline),
            s + "CreatePipelineV2": (pps.CreatePipelineV2Request, self.create_pipeline_v2),
            s + "InspectPipeline": (pps.InspectPipelineRequest, self.inspect_pipeline),
            s + "ListPipeline": (pps.ListPipelineRequest, self.list_pipeline),
            s + "DeletePipeline": (pps.DeletePipelineRequest, self.delete_pipeline),
            s + "DeletePipelines": (pps.DeletePipelinesRequest, self.delete_pipelines),
            s + "StartPipeline": (pps.StartPipelineRequest, self.start_pipeline),
            s + "StopPipeline": (pps.StopPipelineRequest, self.stop_pipeline),
            s + "RerunPipeline": (pps.RerunPipelineRequest, self.rerun_pipeline),
            s + "RunCron": (pps.RunCronRequest, self.run_cron),
        }

    def create_pipeline(self, req: pps.CreatePipelineRequest, ctx: Ctx) -> Empty:
        text = json.dumps(conv.spec_document(req))
        if req.dry_run:
            self.svc.validate_pipeline(text)
        else:
            self.svc.create_pipeline(text, update=req.update, reprocess=req.reprocess)
        return Empty()

    def create_pipeline_v2(
        self, req: pps.CreatePipelineV2Request, ctx: Ctx
    ) -> pps.CreatePipelineV2Response:
        text = req.create_pipeline_request_json
        if req.dry_run:
            effective = self.svc.validate_pipeline(text).to_dict()
        else:
            effective = self.svc.create_pipeline(
                text, update=req.update, reprocess=req.reprocess
            ).spec
        return pps.CreatePipelineV2Response(
            effective_create_pipeline_request_json=json.dumps(effective)
        )

    def inspect_pipeline(self, req: pps.InspectPipelineRequest, ctx: Ctx) -> pps.PipelineInfo:
        project, name = conv.pipeline_ref(req.pipeline)
        return conv.pipeline_info(self.svc.inspect_pipeline(name, project=project))

    def _pipelines(self, projects: list[str]) -> list[PipelineInfo]:
        found: list[PipelineInfo] = []
        names: list[str | None] = [*projects] or [None]
        for project in names:
            found += self.svc.list_pipeline(project=project)
        return found

    def list_pipeline(self, req: pps.ListPipelineRequest, ctx: Ctx) -> Iterator[pps.PipelineInfo]:
        if req.jq_filter:
            raise Unsupported("ListPipeline with a jq_filter")
        if req.pipeline and req.pipeline.name:
            project, name = conv.pipeline_ref(req.pipeline)
            infos = [self.svc.inspect_pipeline(name, project=project)]
        else:
            infos = self._pipelines([project_name(p) for p in req.projects])
        if req.commit_set and req.commit_set.id:
            ran = {(j.project, j.pipeline) for j in self.svc.list_job(job_id=req.commit_set.id)}
            infos = [p for p in infos if (p.project, p.name) in ran]
        if req.page and req.page.page_size > 0:
            start = req.page.page_index * req.page.page_size
            infos = infos[start : start + req.page.page_size]
        for info in infos:
            yield conv.pipeline_info(info)

    def delete_pipeline(self, req: pps.DeletePipelineRequest, ctx: Ctx) -> Empty:
        if req.all:
            for info in self._pipelines([]):
                self.svc.delete_pipeline(info.name, project=info.project,
                                         keep_repo=req.keep_repo, force=req.force)  # fmt: skip
            return Empty()
        project, name = conv.pipeline_ref(req.pipeline)
        try:
            self.svc.delete_pipeline(name, project=project, keep_repo=req.keep_repo,
                                     force=req.force)  # fmt: skip
        except PipelineNotFound:
            if req.must_exist:
                raise
        return Empty()

    def delete_pipelines(
        self, req: pps.DeletePipelinesRequest, ctx: Ctx
    ) -> pps.DeletePipelinesResponse:
        if not req.all and not req.projects:
            raise InvalidArgumentError("DeletePipelines: set `all`, or name the projects")
        deleted = []
        for info in self._pipelines([] if req.all else [project_name(p) for p in req.projects]):
            self.svc.delete_pipeline(info.name, project=info.project, keep_repo=req.keep_repo,
                                     force=req.force)  # fmt: skip
            deleted.append(conv.pipeline_msg(info.project, info.name))
        return pps.DeletePipelinesResponse(pipelines=deleted)

    def start_pipeline(self, req: pps.StartPipelineRequest, ctx: Ctx) -> Empty:
        project, name = conv.pipeline_ref(req.pipeline)
        self.svc.start_pipeline(name, project=project)
        return Empty()

    def stop_pipeline(self, req: pps.StopPipelineRequest, ctx: Ctx) -> Empty:
        project, name = conv.pipeline_ref(req.pipeline)
        try:
            self.svc.stop_pipeline(name, project=project)
        except PipelineNotFound:
            if req.must_exist:
                raise
        return Empty()

    def rerun_pipeline(self, req: pps.RerunPipelineRequest, ctx: Ctx) -> Empty:
        project, name = conv.pipeline_ref(req.pipeline)
        self.svc.rerun_pipeline(name, project=project, reprocess=req.reprocess)
        return Empty()

    def run_cron(self, req: pps.RunCronRequest, ctx: Ctx) -> Empty:
        project, name = conv.pipeline_ref(req.pipeline)
        self.svc.run_cron(name, project=project)
        return Empty()
