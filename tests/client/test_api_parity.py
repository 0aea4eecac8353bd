"""The remote client is the embedded one over HTTP: the same methods with the same
parameters, and records that survive the wire (``to_dict``, JSON, :func:`wire.decode`)."""

from __future__ import annotations

import dataclasses
import enum
import inspect
import json
import types
from typing import Any, Union, get_args, get_origin, get_type_hints

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loxo.client import API, Client
from loxo.client.remote import RemoteService
from loxo.client.wire import decode
from loxo.pfs import model as pfs_model
from loxo.pfs.model import Record
from loxo.pps import model as pps_model
from loxo.service import Service

ONLY_EMBEDDED = {"start_commit": {"commit_id", "origin", "provenance"}}
"""Parameters the service takes for its own callers (pipeline output commits), which the
remote ``start_commit`` accepts as ``**_`` and ignores."""


def test_the_api_is_every_public_method_of_both() -> None:
    assert len(API) == len(set(API))
    for name in API:
        assert callable(getattr(Service, name, None)), f"Service has no {name}"
        assert callable(getattr(RemoteService, name, None)), f"RemoteService has no {name}"
    assert not set(API) & set(vars(Client)), "the client forwards these, never wraps them"


@pytest.mark.parametrize("name", API)
def test_the_remote_method_takes_the_same_parameters(name: str) -> None:
    embedded = inspect.signature(getattr(Service, name)).parameters.values()
    remote = inspect.signature(getattr(RemoteService, name)).parameters.values()
    skip = ONLY_EMBEDDED.get(name, set())
    want = [(p.name, p.kind, p.default) for p in embedded if p.name not in skip]
    got = [(p.name, p.kind, p.default) for p in remote if not (skip and p.name == "_")]
    assert got == want
    if skip:  # the remote one swallows what it does not send
        (rest,) = [p for p in remote if p.kind == p.VAR_KEYWORD]
        assert rest.name == "_"


# --- records over the wire ---------------------------------------------------------------


def record_classes() -> list[type[Record]]:
    return [
        cls
        for module in (pfs_model, pps_model)
        for cls in vars(module).values()
        if isinstance(cls, type)
        and issubclass(cls, Record)
        and dataclasses.is_dataclass(cls)
        and cls.__module__ == module.__name__
    ]


FLOATS = st.floats(allow_nan=False, allow_infinity=False)  # what JSON carries
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | FLOATS | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


def strategy(tp: Any) -> st.SearchStrategy[Any]:
    """Values of a record field's type, records included."""
    supertype = getattr(tp, "__supertype__", None)  # a NewType such as CommitID
    if supertype is not None:
        return strategy(supertype)
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        return st.one_of([strategy(a) for a in get_args(tp)])
    if origin is list:
        return st.lists(strategy(get_args(tp)[0]), max_size=3)
    if origin is dict:
        key, value = get_args(tp)
        return st.dictionaries(strategy(key), strategy(value), max_size=3)
    if tp is Any:
        return JSON
    if tp is float:
        return FLOATS
    if tp is type(None):
        return st.none()
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        hints = get_type_hints(tp)
        fields = {f.name: strategy(hints[f.name]) for f in dataclasses.fields(tp)}
        return st.builds(tp, **fields)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return st.sampled_from(list(tp))
    return st.from_type(tp)


RECORDS = record_classes()


def test_every_record_class_is_covered() -> None:
    names = {cls.__name__ for cls in RECORDS}
    assert names >= {"RepoInfo", "BranchInfo", "CommitInfo", "FileInfo", "DiffEntry"}
    assert names >= {"FsckReport", "GCReport", "JobInfo", "PipelineInfo", "DatumInfo"}
    assert names >= {"LogRecord", "JobProgress", "InputCommit", "CommitRefInfo"}


@pytest.mark.parametrize("cls", RECORDS, ids=lambda cls: cls.__name__)
@settings(max_examples=50)
@given(data=st.data())
def test_a_record_survives_the_wire(cls: type[Record], data: st.DataObject) -> None:
    record = data.draw(strategy(cls))
    assert decode(cls, record.to_dict()) == record
    over_json = decode(cls, json.loads(json.dumps(record.to_dict())))
    assert over_json == record
    assert type(over_json) is cls
