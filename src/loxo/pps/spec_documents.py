"""Reading pipeline spec text: documents, and field names as the rest of the parser sees them.

A spec file is a stream of JSON objects (as ``pachctl`` reads) or a YAML file of one or more
documents (:func:`load_documents`); a mapping that gives a key twice is remembered as such,
YAML merge keys (``<<``) included, so that the parser can refuse it. :func:`normalise_keys`
turns a loaded document into plain dicts and lists with snake_case field names -- except
inside maps of user data (``transform.env``, labels, annotations, node selectors, pod specs),
whose keys are kept as written -- and refuses a key given twice or one field spelled two
ways. Errors are :class:`~loxo.pps.spec_inputs.InvalidSpec` naming the field path.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import yaml

from loxo.pps.spec_inputs import InvalidSpec, expected, join_path

__all__ = ["load_documents", "normalise_keys", "snake_case"]

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


_YamlLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_documents(text: str, source: str) -> list[object]:
    """The non-empty documents of a JSON stream or a YAML file."""
    json_error: json.JSONDecodeError | None = None
    if text.lstrip().startswith("{"):
        decoder, pos, found = json.JSONDecoder(object_pairs_hook=_pairs), 0, []
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
