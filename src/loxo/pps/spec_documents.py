"""Reading pipeline spec text: documents, and field names as the rest of the parser sees them.

A spec file is a stream of JSON objects (as ``pachctl`` reads) or a YAML file of one or more
documents (:func:`load_documents`); a mapping that gives a key twice is remembered as such,
YAML merge keys (``<<``) included, so that the parser can refuse it. :func:`normalise_keys`
turns a loaded document into plain dicts and lists with snake_case field names -- except
inside maps of user data (``transform.env``, labels, annotations, node selectors, pod specs),
whose keys are kept as written -- and refuses a key given twice or one field spelled two
ways. A document nested deeper than :data:`MAX_DEPTH` (no spec is; a hostile one may be, to
exhaust the parser's stack) is refused before anything walks it, an integer of more than
:data:`MAX_DIGITS` digits as it is read. Errors are :class:`~loxo.pps.spec_inputs.InvalidSpec`
naming the field path.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import yaml

from loxo.pps.spec_inputs import InvalidSpec, expected, join_path

__all__ = ["MAX_DEPTH", "check_depth", "load_documents", "normalise_keys", "snake_case"]

MAX_DEPTH = 100  # levels of nested mappings and lists in one document
MAX_DIGITS = 100  # of one integer

# maps of user data: their keys are not field names
_VERBATIM = frozenset({"env", "annotations", "labels", "node_selector", "pod_spec", "pod_patch"})
_VERBATIM |= {"tolerations", "tf_job", "determined"}


class _Pairs(dict[Any, Any]):
    """A mapping as loaded, remembering the keys that were given more than once."""

    duplicates: tuple[Any, ...] = ()


def _pairs(pairs: list[tuple[Any, Any]], own_keys: list[Any] | None = None) -> _Pairs:
    result = _Pairs(pairs)
    keys = [key for key, _ in pairs] if own_keys is None else own_keys
    result.duplicates = tuple(key for i, key in enumerate(keys) if key in keys[:i])
    return result


class _YamlLoader(yaml.SafeLoader):
    """PyYAML's safe loader, with mappings that remember duplicate keys."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> _Pairs:
    own = [key.value for key, _ in node.value if key.tag != "tag:yaml.org,2002:merge"]
    loader.flatten_mapping(node)  # merge keys (<<) come first, so own keys override them
    return _pairs(loader.construct_pairs(node, deep=True), own)


def _checked_int(text: str) -> str:
    """``text``, unless it has more digits than a spec's number can mean (Python refuses
    to convert over 4,300 digits, with a message for programmers)."""
    if len(text) > MAX_DIGITS:
        why = f"a number of {len(text)} digits ({text[:12]}...); a spec's numbers have at most"
        raise InvalidSpec("", None, f"{why} {MAX_DIGITS}")
    return text


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    _checked_int(str(node.value))
    return int(loader.construct_yaml_int(node))


_YamlLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_YamlLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)


def load_documents(text: str, source: str) -> list[object]:
    """The non-empty documents of a JSON stream or a YAML file."""
    try:
        return _load(text, source)
    except RecursionError:
        raise InvalidSpec("", None, _too_deep(), source) from None
    except InvalidSpec as err:
        raise (err if err.source else err.in_source(source)) from None


def _too_deep() -> str:
    return f"nested too deep: a spec has at most {MAX_DEPTH} levels of mappings and lists"


def check_depth(document: object, source: str) -> None:
    """Refuse a document nested deeper than :data:`MAX_DEPTH` (walked without recursion)."""
    level: list[object] = [document]
    for _ in range(MAX_DEPTH + 1):
        level = [
            child
            for value in level
            if isinstance(value, Mapping | list)
            for child in (value.values() if isinstance(value, Mapping) else value)
        ]
        if not level:
            return
    raise InvalidSpec("", None, _too_deep(), source)


def _load(text: str, source: str) -> list[object]:
    json_error: json.JSONDecodeError | None = None
    if text.lstrip().startswith("{"):
        decoder = json.JSONDecoder(
            object_pairs_hook=_pairs, parse_int=lambda t: int(_checked_int(t))
        )
        pos, found = 0, []
        try:
            while rest := text[pos:].lstrip():  # a stream of objects, as pachctl reads
                document, end = decoder.raw_decode(rest)
                found.append(document)
                pos += len(text[pos:]) - len(rest) + end
            return found
        except json.JSONDecodeError as err:
            json_error = err  # perhaps flow-style YAML: try that before complaining
    try:
        documents = [d for d in yaml.load_all(text, Loader=_YamlLoader) if d is not None]
    except yaml.YAMLError as err:
        if json_error is not None:
            at = f"line {json_error.lineno}, column {json_error.colno}"
            raise InvalidSpec(
                "", None, f"not valid JSON: {json_error.msg} at {at}", source
            ) from None
        mark = getattr(err, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        why = getattr(err, "problem", None) or str(err)
        raise InvalidSpec("", None, f"not valid YAML: {why}{at}", source) from None
    if not documents:
        raise InvalidSpec("", None, "no pipeline spec found", source)
    return documents


def snake_case(key: str) -> str:
    """``datumTries`` -> ``datum_tries``; ``URL`` -> ``url``; snake_case stays as it is."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", key).lower()


def normalise_keys(value: object, path: str, rename: bool = True) -> Any:
    """``value`` as plain dicts and lists, field names in snake_case (unless not ``rename``).

    A key given twice in one mapping, or two spellings of one field, is an error.
    """
    if isinstance(value, list):
        return [normalise_keys(item, f"{path}[{i}]", rename) for i, item in enumerate(value)]
    if not isinstance(value, Mapping):
        return value
    duplicates = getattr(value, "duplicates", ())
    if duplicates:
        raise InvalidSpec(join_path(path, str(duplicates[0])), None, "given more than once")
    result: dict[Any, Any] = {}
    spelled: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise expected(path or "(document)", "field names that are strings", key)
        name = snake_case(key) if rename else key
        if name in result:
            why = f"given twice, as {spelled[name]!r} and {key!r}"
            raise InvalidSpec(join_path(path, name), item, why)
        spelled[name] = key
        keep = rename and name not in _VERBATIM
        result[name] = normalise_keys(item, join_path(path, name), keep)
    return result
