"""Request bodies of the HTTP API (pydantic models: validated, and described in OpenAPI)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class CreateProject(BaseModel):
    name: str
    description: str = ""


class CreateRepo(BaseModel):
    name: str
    description: str = ""
    update: bool = False
    type: str = "user"


class UpdateRepo(BaseModel):
    description: str


class CreateBranch(BaseModel):
    name: str
    head: str | None = None
    must_not_exist: bool = False


class StartCommit(BaseModel):
    repo: str
    branch: str = "master"
    project: str = "default"
    description: str = ""


class FinishCommit(BaseModel):
    ref: str
    description: str | None = None
    error: str = ""


class RefBody(BaseModel):
    ref: str


class Wait(BaseModel):
    timeout: float | None = Field(None, ge=0)  # seconds; None (or infinity): no limit


class WaitRef(BaseModel):
    ref: str
    timeout: float | None = Field(None, ge=0)


class CopyFile(BaseModel):
    src: str
    dst_ref: str
    dst_path: str


class OpenUpload(BaseModel):
    ref: str
    description: str = ""


class UploadCopy(BaseModel):
    src: str
    dst: str


class UploadURL(BaseModel):
    path: str
    url: str
    untar: bool = False
    append: bool = False


class PipelineSpecBody(BaseModel):
    spec: str | dict[str, Any]
    update: bool = False
    reprocess: bool = False


class Reprocess(BaseModel):
    reprocess: bool = False
