"""Glob patterns over PFS paths: ``glob file`` and the datums of pipeline inputs.

A pattern is matched against whole canonical paths (``/a/b.csv``), files and directories alike.
A pattern without a leading ``/`` gets one; trailing ``/`` are ignored. Grammar (Pachyderm's):

====================  ================================================================
``*``                 any run of characters except ``/`` (also empty)
``?``                 one character except ``/``
``**``                any run of characters, ``/`` included (also empty)
``[abc]`` ``[a-z]``   one character of a class; ``[!abc]`` / ``[^abc]`` negate it;
                      a class never matches ``/``; ``[]`` is an error
``{a,b,c}``           one of the alternatives (nestable, each may hold any syntax)
``(a|b)``             a capture group (``|`` separates alternatives); groups are numbered
                      1, 2, ... by their opening parenthesis
``?(..)`` ``*(..)``   a capture group matched 0-1, 0+, 1+ or exactly 1 times (extglob);
``+(..)`` ``@(..)``   ``!(..)`` is not supported
``\\x``                the character ``x`` itself
====================  ================================================================

Any other character matches itself. A pattern compiles once into a Python regular expression
(``re.fullmatch``). The root ``/`` matches only the pattern ``/``: that glob is one match, the
whole tree; ``/*`` is each top-level file or directory; ``/*/*`` the second level; ``**`` all.

:func:`glob_tree` matches a sorted stream of file paths, yielding the matching files and implied
directories in **tree order**: a directory sorts as its path plus ``/``, right before its
contents (``/a.txt`` < ``/a`` (dir) < ``/a/b``). That is the order of PFS filesets, and the one
that streams: a directory is known only once its first file arrives. Memory ~ path depth.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from loxo.errors import InvalidGlob
from loxo.pfs.paths import ROOT

__all__ = ["Glob", "GlobMatch", "compile_glob", "glob_tree"]

_LITERAL_RUN = re.compile(r"(?:\\.|[^\\*?[{(+@!])*", re.DOTALL)  # up to the first syntax
_ESCAPED = re.compile(r"\\(.)", re.DOTALL)
_WILDCARDS = {"*": "[^/]*", "?": "[^/]"}
_QUANTIFIERS = {"?": "?", "*": "*", "+": "+", "@": ""}


@dataclass(frozen=True, slots=True)
class Glob:
    """A compiled pattern. ``pattern`` is its canonical text (leading ``/``, no trailing ``/``)."""

    pattern: str
    regex: re.Pattern[str]
    literal_prefix: str
    """Longest leading directory prefix free of syntax: every match starts with it."""
    max_depth: int | None
    """Most ``/``-separated parts a match can have; None if unbounded (``**``)."""

    @property
    def group_count(self) -> int:
        return self.regex.groups

    def match(self, path: str) -> tuple[str, ...] | None:
        """The capture groups if canonical ``path`` matches (unmatched groups are ``""``)."""
        if path == ROOT:
            return () if self.pattern == ROOT else None
        m = self.regex.fullmatch(path)
        return None if m is None else m.groups("")


@dataclass(frozen=True, slots=True)
class GlobMatch:
    """One match: a file or directory path, with the pattern's capture groups."""

    path: str
    is_dir: bool
    groups: tuple[str, ...]


@lru_cache(maxsize=512)
def compile_glob(pattern: str) -> Glob:
    """Compile ``pattern``; raise :class:`InvalidGlob`, naming the position, if it is malformed."""
    text = pattern if pattern.startswith("/") else "/" + pattern
    shift = len(text) - len(pattern)
    while len(text) > 1 and text.endswith("/") and (len(text) - len(text[:-1].rstrip("\\"))) % 2:
        text = text[:-1]  # an unescaped trailing '/' (preceded by an even run of '\')
    regex, slashes = _Parser(text, pattern, shift).sequence("")
    return Glob(
        pattern=text,
        regex=re.compile(regex, re.DOTALL),
        literal_prefix=_literal_prefix(text),
        max_depth=0 if text == ROOT else slashes,
    )


def glob_tree(pattern: str | Glob, file_paths: Iterable[str]) -> Iterator[GlobMatch]:
    """Yield each file of ``file_paths`` and each directory above one that matches ``pattern``.

    ``file_paths`` are canonical and sorted (string order; duplicates are skipped). Output is
    in tree order (see the module docstring), without duplicates; the root ``/`` is yielded
    only, and always, for the pattern ``/``.
    """
    glob = compile_glob(pattern) if isinstance(pattern, str) else pattern
    if glob.pattern == ROOT:
        yield GlobMatch(ROOT, True, ())
        return
    fullmatch = glob.regex.fullmatch
    prefix = glob.literal_prefix
    max_depth = sys.maxsize if glob.max_depth is None else glob.max_depth
    stack: list[str] = []  # the open directories of the last path, each with a trailing '/'
    prev = ""
    for path in file_paths:
        if path <= prev:
            if path == prev:
                continue
            raise ValueError(f"file paths must be sorted: {path!r} came after {prev!r}")
        prev = path
        if not path.startswith(prefix):
            continue  # neither it nor any of its directories can match
        while stack and not path.startswith(stack[-1]):
            stack.pop()
        i = path.find("/", len(stack[-1]) if stack else 1)
        while i != -1 and len(stack) < max_depth:  # directories seen for the first time
            stack.append(path[: i + 1])
            m = fullmatch(path, 0, i)
            if m is not None:
                yield GlobMatch(path[:i], True, m.groups(""))
            i = path.find("/", i + 1)
        m = fullmatch(path) if i == -1 else None  # i != -1: deeper than any match
        if m is not None:
            yield GlobMatch(path, False, m.groups(""))


def _literal_prefix(text: str) -> str:
    literal = _LITERAL_RUN.match(text)
    prefix = _ESCAPED.sub(r"\1", literal.group()) if literal else ""
    return prefix[: prefix.rfind("/") + 1]


class _Parser:
    """Recursive descent from glob text to regex text, counting the ``/`` a match can hold."""

    def __init__(self, text: str, original: str, shift: int) -> None:
        self.text, self.original, self.shift = text, original, shift
        self.pos = 0

    def fail(self, why: str, pos: int) -> InvalidGlob:
        return InvalidGlob(self.original, f"{why} at character {max(pos - self.shift, 0) + 1}")

    def sequence(self, stops: str) -> tuple[str, int | None]:
        """Parse elements up to the end or an unescaped character of ``stops`` (not consumed)."""
        parts: list[str] = []
        slashes: int | None = 0
        while self.pos < len(self.text) and self.text[self.pos] not in stops:
            regex, n = self.element()
            parts.append(regex)
            slashes = None if slashes is None or n is None else slashes + n
        return "".join(parts), slashes

    def element(self) -> tuple[str, int | None]:
        text, start = self.text, self.pos
        c = text[start]
        nxt = text[start + 1 : start + 2]
        self.pos += 1
        if c == "\\":
            if not nxt:
                raise self.fail("the pattern ends with an escape '\\'", start)
            self.pos += 1
            return re.escape(nxt), int(nxt == "/")
        if c == "*" and nxt == "*":
            while text.startswith("*", self.pos):
                self.pos += 1
            return ".*", None
        if c in "?*+@!" and nxt == "(":
            if c == "!":
                raise self.fail("negated groups '!(...)' are not supported", start)
            self.pos += 1
            return self.group(start, _QUANTIFIERS[c])
        if c == "(":
            return self.group(start, "")
        if c == "{":
            alternatives, slashes = self.alternatives(start, "{", ",", "}")
            return "(?:" + "|".join(alternatives) + ")", slashes
        if c == "[":
            return self.char_class(start), 0
        if c in ")}":
            raise self.fail(f"unmatched {c!r}", start)
        if c in _WILDCARDS:
            return _WILDCARDS[c], 0
        return re.escape(c), int(c == "/")

    def alternatives(
        self, start: int, opener: str, sep: str, close: str
    ) -> tuple[list[str], int | None]:
        found: list[str] = []
        most: int | None = 0
        while True:
            regex, n = self.sequence(sep + close)
            found.append(regex)
            most = None if most is None or n is None else max(most, n)
            if self.pos >= len(self.text):
                raise self.fail(f"unclosed {opener!r}", start)
            self.pos += 1
            if self.text[self.pos - 1] == close:
                return found, most

    def group(self, start: int, quantifier: str) -> tuple[str, int | None]:
        alternatives, slashes = self.alternatives(start, "(", "|", ")")
        inner = "|".join(alternatives)
        if not quantifier:
            return f"({inner})", slashes
        if quantifier in "*+" and slashes != 0:
            slashes = None  # repeating something that holds '/' has no depth bound
        return f"((?:{inner}){quantifier})", slashes

    def char_class(self, start: int) -> str:
        text = self.text
        negate = text[self.pos : self.pos + 1] in ("!", "^")
        self.pos += negate
        ranges: list[tuple[str, str]] = []
        while self.pos < len(text) and text[self.pos] != "]":
            lo = hi = self.class_char(start)
            if text.startswith("-", self.pos) and text[self.pos + 1 : self.pos + 2] not in "]":
                self.pos += 1
                hi = self.class_char(start)
                if hi < lo:
                    raise self.fail(f"reversed range '{lo}-{hi}' in '['", start)
            ranges.append((lo, hi))
        if self.pos >= len(text):
            raise self.fail("unclosed '['", start)
        self.pos += 1
        if not ranges:
            raise self.fail("empty character class", start)
        body = "".join(re.escape(a) + ("" if a == b else "-" + re.escape(b)) for a, b in ranges)
        if negate:
            return f"[^/{body}]"
        # a class never matches '/'
        return f"(?!/)[{body}]" if any(a <= "/" <= b for a, b in ranges) else f"[{body}]"

    def class_char(self, start: int) -> str:
        c = self.text[self.pos]
        self.pos += 1
        if c == "\\":
            if self.pos >= len(self.text):
                raise self.fail("unclosed '['", start)
            c = self.text[self.pos]
            self.pos += 1
        return c
