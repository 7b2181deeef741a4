"""Checking a message against a JSON Schema of the contract, and reading its JSON within bounds.

Why apart from ``sync.contract`` (the topics and the messages): this is machinery any schema
would need, and most of it is about one trap. jsonschema hands a ``pattern`` to Python's ``re``
as it is, and ECMA-262, the dialect JSON Schema writes, reads some constructs differently
(:func:`ecma_regex`), so every validator is made here (:func:`schema_validator`) and reads them
the ECMA-262 way. The rest reads a payload as JSON without letting its size or its nesting cost
more than the caller allows (:func:`bounded_object`, :func:`loads_bounded`) and says in one line
where a message breaks its schema (:func:`schema_problem`). The schemas themselves are the
contract's (``sync.contract.load_schema``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators
from jsonschema.protocols import Validator

#: ECMA-262's ``\s`` and what its ``.`` does not match, as the inside of a character class.
_ECMA_SPACE = r"\t\n\v\f\r \xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_ECMA_LINE_END = r"\n\r\u2028\u2029"


@cache
def ecma_regex(pattern: str) -> re.Pattern[str]:
    r"""``pattern``, an ECMA-262 regex as JSON Schema writes them, compiled for Python's ``re`` to
    match what ECMA-262 matches; ValueError for a construct the two read differently that this
    does not translate (Python's own errors, e.g. for ``\p{L}``, are ``re.error``).

    Why: jsonschema hands ``pattern`` to ``re.search`` as it is, and the dialects differ where it
    matters to a gate. Python's ``$`` also matches before a final newline (the command id
    ``"abc\n"`` passed ``^[A-Za-z0-9._:-]{1,64}$``), so an unescaped ``$`` outside a class
    becomes ``\Z``; its ``\d``, ``\w`` and ``\b`` take any Unicode digit or letter (``"٢٠٢٦"``
    passed ``\d{4}``), so the pattern is compiled ASCII-only, as they are in ECMA-262; that would
    narrow ``\s``, which is Unicode there, so it is spelled out; and its ``.`` matches ``\r``,
    U+2028 and U+2029, which ECMA-262's does not.
    """
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        i += 1
        if char == "\\" and i < len(pattern):
            escaped = pattern[i]
            i += 1
            if escaped == "s":
                out.append(_ECMA_SPACE if in_class else f"[{_ECMA_SPACE}]")
            elif escaped == "S" and not in_class:
                out.append(f"[^{_ECMA_SPACE}]")
            elif escaped in "SAZ":  # \S inside a class; \A and \Z are anchors in Python, letters in ECMA-262
                raise ValueError(f"pattern {pattern!r}: \\{escaped} is read differently by ECMA-262 and Python")
            else:
                out.append("\\" + escaped)
        elif in_class:
            in_class = char != "]"
            out.append(char)
        elif char == "[":
            if pattern.startswith(("]", "^]"), i):  # ECMA-262: matches nothing / anything; Python: a "]"
                raise ValueError(f"pattern {pattern!r}: [] and [^] are read differently by ECMA-262 and Python")
            in_class = True
            out.append(char)
        elif char == "$":
            out.append(r"\Z")  # the end of the string, never "before a final newline"
        elif char == ".":
            out.append(f"[^{_ECMA_LINE_END}]")
        else:
            out.append(char)
    return re.compile("".join(out), re.ASCII)


def _ecma_pattern(validator: Validator, pattern: str, instance: Any, _schema: Any) -> Iterator[Any]:
    """jsonschema's ``pattern`` keyword, with ECMA-262 meaning (:func:`ecma_regex`)."""
    if validator.is_type(instance, "string") and not ecma_regex(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


#: Draft 2020-12 with ECMA-262 ``pattern`` s: every schema of the contract is checked with it.
ContractValidator = validators.extend(Draft202012Validator, {"pattern": _ecma_pattern})


def schema_validator(schema: dict[str, Any]) -> Validator:
    """A validator for one of the contract's schemas, reading its ``pattern`` s as ECMA-262 does.

    Every check of a message against ``sync/schemas`` (mirror and consumer) goes through here,
    not ``Draft202012Validator``: that one reads ``^…$`` as Python's ``re`` does and lets a
    trailing newline through. A schema with ``patternProperties`` is refused: jsonschema also
    matches those with ``re`` inside ``additionalProperties``, which this cannot reach.
    """
    if _keyword(schema, "patternProperties"):
        raise ValueError("patternProperties would be matched as Python regexes; use propertyNames and pattern")
    for pattern in _keyword(schema, "pattern"):
        if isinstance(pattern, str):
            ecma_regex(pattern)  # a pattern this cannot translate fails here, not on a message
    return ContractValidator(schema)


def _keyword(node: Any, key: str) -> list[Any]:
    """The values of ``key`` anywhere in a schema."""
    if isinstance(node, dict):
        return ([node[key]] if key in node else []) + [v for value in node.values() for v in _keyword(value, key)]
    if isinstance(node, list):
        return [v for value in node for v in _keyword(value, key)]
    return []


def schema_problem(validator: Validator, body: Any) -> str:
    """The first place (by path) ``body`` breaks its schema, as one short line; ``""`` when it fits."""
    error = next(iter(sorted(validator.iter_errors(body), key=lambda e: list(e.path))), None)
    if error is None:
        return ""
    where = "/".join(str(p) for p in error.path)
    return f"{where + ': ' if where else ''}{error.message}"[:300]


def bounded_object(payload: bytes, limit: int, what: str) -> dict[str, Any]:
    """``payload`` as a JSON object, refused unread over ``limit`` bytes (``what``: "an ack"), or ValueError."""
    if len(payload) > limit:
        raise ValueError(f"{len(payload)} bytes, over the {limit} {what} may have; not read")
    body = loads_bounded(payload)
    if not isinstance(body, dict):
        raise ValueError(f"expected a JSON object, got {type(body).__name__}")
    return body


def loads_bounded(payload: bytes | str) -> Any:
    """``json.loads``, with nesting too deep for the parser (``[[[[…``) a ValueError like any other bad JSON,
    and so are ``NaN`` and ``Infinity``: Python reads them, but they are not JSON (the consumer refuses
    them as ``malformed_json`` too), and a value no other reader takes must not pass as one."""
    try:
        return json.loads(payload, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def _no_constant(name: str) -> float:
    """``json.loads`` hook for ``NaN``, ``Infinity`` and ``-Infinity``: refused."""
    raise ValueError(f"{name} is not a JSON number")
