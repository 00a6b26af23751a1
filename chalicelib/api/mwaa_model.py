"""MWAA CreateEnvironment parameters checked against botocore's own MWAA model.

Walks the `CreateEnvironmentInput` shape: types, required members, unknown members, min/max
(length, items or value), patterns (matched whole, as AWS services do), enums. `Name` is not
accepted here: it comes from the request's top-level `name`.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import botocore.session
from botocore.model import Shape

from . import unicode_classes
from .values import json_type

NAME_MEMBER = "Name"
# The model's patterns are Java regular expressions, matched whole. They are rewritten once
# into a form that means the same in Java, in ECMA-262 (docs/openapi.yaml, JSON Schema) and in
# Python's `re`: `\d` is [0-9] (Java's and ECMA's `\d` are ASCII, Python's is not); `.` is any
# character but a line terminator of either dialect.
_ANY = "[^\\n\\r\\u0085\\u2028\\u2029]"
# For Python only: its `re` has no Unicode property classes. Inside a class that holds both
# \p{L} and \p{N} (and `_`), `\w` is exactly their union; Z is the separators, listed.
_PYTHON_CLASSES = {
    "L": r"\w",
    "N": "",
    "Z": "\u0020\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000",
}
# MWAA accepts more access modes than this service supports (DESIGN §3).
ACCESS_MODES = ("PUBLIC_ONLY", "PRIVATE_ONLY")
INT32 = (-(2**31), 2**31 - 1)
# Cross-field rules MWAA enforces that the model cannot say.
_ORDERED_PAIRS = (("MinWorkers", "MaxWorkers"), ("MinWebservers", "MaxWebservers"))


@functools.cache
def create_environment_shape() -> Shape:
    model = botocore.session.get_session().get_service_model("mwaa")
    return model.operation_model("CreateEnvironment").input_shape


def _translated(java: str, unicode_class: Callable[[str], str]) -> str:
    """The body of a model pattern with `\\d` and `.` made portable (see `_ANY`) and each
    `\\p{X}` (always inside a class in the model) replaced by `unicode_class(X)`."""
    out: list[str] = []
    in_class = False
    index = 0
    while index < len(java):
        char = java[index]
        if char == "\\":
            pair = java[index : index + 2]
            if pair == "\\d":
                out.append("0-9" if in_class else "[0-9]")
                index += 2
            elif pair == "\\p":
                end = java.index("}", index)
                out.append(unicode_class(java[index + 3 : end]))
                index = end + 1
            else:
                out.append(pair)
                index += 2
            continue
        if char == "[" and not in_class:
            in_class = True
        elif char == "]" and in_class:
            in_class = False
        elif char == "." and not in_class:
            char = _ANY
        out.append(char)
        index += 1
    return "".join(out)


def portable_pattern(java: str) -> str:
    """A model pattern, anchored, for docs/openapi.yaml: ECMA-262, Java and Python alike."""
    return "^(?:" + _translated(java, unicode_classes.char_class) + ")$"


@functools.cache
def _pattern(java: str) -> re.Pattern[str]:
    """A model pattern for Python (used with fullmatch; Python's `$` would allow a final
    newline). Same meaning as `portable_pattern`, with Python's own Unicode classes."""
    return re.compile(_translated(java, _PYTHON_CLASSES.__getitem__))


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=True)
    return text if len(text) <= 64 else text[:64] + "…"


def _bounds(shape: Shape, size: int, what: str, path: str) -> Iterator[tuple[str, str]]:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and size < low:
        yield path, f"must have at least {low} {what}"
    if high is not None and size > high:
        yield path, f"must have at most {high} {what}"


def problems(value: Any, shape: Shape, path: str) -> Iterator[tuple[str, str]]:
    """Every (field path, problem) of `value` against `shape`."""
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            yield path, f"must be an object, got {json_type(value)}"
            return
        for member in value:
            if member not in shape.members:
                yield f"{path}.{member}", "unknown parameter for MWAA CreateEnvironment"
        for member in shape.required_members:
            if member not in value:
                yield f"{path}.{member}", "required"
        for member, item in value.items():
            if member in shape.members:
                yield from problems(item, shape.members[member], f"{path}.{member}")
    elif kind == "list":
        if not isinstance(value, list):
            yield path, f"must be an array, got {json_type(value)}"
            return
        yield from _bounds(shape, len(value), "items", path)
        for index, item in enumerate(value):
            yield from problems(item, shape.member, f"{path}[{index}]")
    elif kind == "map":
        if not isinstance(value, dict):
            yield path, f"must be an object, got {json_type(value)}"
            return
        yield from _bounds(shape, len(value), "entries", path)
        for key, item in value.items():
            yield from problems(key, shape.key, f"{path} key {_shown(key)}")
            yield from problems(item, shape.value, f"{path}.{key}")
    elif kind == "string":
        if not isinstance(value, str):
            yield path, f"must be a string, got {json_type(value)}"
            return
        yield from _bounds(shape, len(value), "characters", path)
        # never echo a value the model marks sensitive (it may be a secret)
        got = "" if shape.metadata.get("sensitive") else f" (got {_shown(value)})"
        enum = shape.metadata.get("enum")
        if enum and value not in enum:
            yield path, f"must be one of: {', '.join(enum)}{got}"
        pattern = shape.metadata.get("pattern")
        if pattern and not _pattern(pattern).fullmatch(value):
            yield path, f"must match the pattern {pattern}{got}"
    elif kind in ("integer", "long"):
        if not _is_integral(value):
            yield path, f"must be an integer, got {json_type(value)}"
            return
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        if low is not None and value < low:
            yield path, f"must be at least {low}"
        if high is not None and value > high:
            yield path, f"must be at most {high}"
        if not -(2**31) <= value < 2**31:
            yield path, "out of range"
    elif kind == "boolean":
        if not isinstance(value, bool):
            yield path, f"must be true or false, got {json_type(value)}"
    else:  # not in CreateEnvironment today; refuse rather than pass unchecked
        yield path, f"unsupported parameter type {kind}"


def create_environment_problems(value: Any, path: str = "create") -> list[tuple[str, str]]:
    """Problems of a `create` object (CreateEnvironment parameters without `Name`)."""
    shape = create_environment_shape()
    if isinstance(value, dict) and NAME_MEMBER in value:
        found = [(f"{path}.{NAME_MEMBER}", "not allowed here: the name is the top-level `name`")]
        value = {key: item for key, item in value.items() if key != NAME_MEMBER}
    else:
        found = []
    for field, problem in problems(value, shape, path):
        if field != f"{path}.{NAME_MEMBER}":  # required by the model, supplied by us
            found.append((field, problem))
    if isinstance(value, dict):
        for low, high in _ORDERED_PAIRS:
            a, b = value.get(low), value.get(high)
            if _is_integral(a) and _is_integral(b) and a > b:
                found.append((f"{path}.{low}", f"must not be greater than {high}"))
    return found


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_integral(value: Any) -> bool:
    """An integer as JSON Schema counts them: `3` and `3.0` alike (never a boolean)."""
    return _is_int(value) or (isinstance(value, float) and value.is_integer())


_DESCEND = object()  # a visitor's answer: nothing to replace here, look inside


def _walk(value: Any, shape: Shape, visit: Callable[[Any, Shape], Any]) -> Any:
    """`value` rebuilt along botocore's `shape`, each part replaced by `visit` unless it answers
    `_DESCEND`; members the shape does not know are kept as they are."""
    replaced = visit(value, shape)
    if replaced is not _DESCEND:
        return replaced
    if shape.type_name == "structure" and isinstance(value, dict):
        return {
            key: _walk(item, shape.members[key], visit) if key in shape.members else item
            for key, item in value.items()
        }
    if shape.type_name == "list" and isinstance(value, list):
        return [_walk(item, shape.member, visit) for item in value]
    if shape.type_name == "map" and isinstance(value, dict):
        return {key: _walk(item, shape.value, visit) for key, item in value.items()}
    return value


def _integral_as_int(value: Any, shape: Shape) -> Any:
    if shape.type_name in ("integer", "long") and isinstance(value, float):
        return int(value)
    return _DESCEND


def normalized(create: Any) -> Any:
    """Valid parameters as botocore sends them: integral numbers (`3.0`) as integers."""
    return _walk(create, create_environment_shape(), _integral_as_int)


REDACTED = "***"


def _sensitive_hidden(value: Any, shape: Shape) -> Any:
    if not shape.metadata.get("sensitive"):
        return _DESCEND
    if shape.type_name == "map" and isinstance(value, dict):
        return dict.fromkeys(value, REDACTED)  # which options are set, never their values
    return REDACTED


def redacted(create: Any) -> Any:
    """A copy of CreateEnvironment parameters safe to show or log: every value the MWAA model
    marks sensitive (e.g. AirflowConfigurationOptions, which hold SMTP passwords) replaced by
    `***`; a sensitive map keeps its keys. Found from the model, so new sensitive members are
    covered without a change here."""
    return _walk(create, create_environment_shape(), _sensitive_hidden)


def _json_schema(shape: Shape) -> dict[str, Any]:
    kind, meta = shape.type_name, shape.metadata
    schema: dict[str, Any]
    if kind == "structure":
        members = {k: v for k, v in shape.members.items() if k != NAME_MEMBER}
        schema = {"type": "object", "additionalProperties": False}
        required = [m for m in shape.required_members if m != NAME_MEMBER]
        if required:
            schema["required"] = required
        schema["properties"] = {name: _json_schema(member) for name, member in members.items()}
    elif kind == "list":
        schema = {"type": "array", "items": _json_schema(shape.member)}
        schema.update(_limits(meta, "minItems", "maxItems"))
    elif kind == "map":
        schema = {
            "type": "object",
            "propertyNames": _json_schema(shape.key),
            "additionalProperties": _json_schema(shape.value),
        }
        schema.update(_limits(meta, "minProperties", "maxProperties"))
    elif kind == "string":
        schema = {"type": "string"}
        if meta.get("enum"):
            schema["enum"] = list(meta["enum"])
        schema.update(_limits(meta, "minLength", "maxLength"))
        if meta.get("pattern"):
            schema["pattern"] = portable_pattern(meta["pattern"])
    elif kind in ("integer", "long"):
        schema = {
            "type": "integer",
            "minimum": max(meta.get("min", INT32[0]), INT32[0]),
            "maximum": min(meta.get("max", INT32[1]), INT32[1]),
        }
    elif kind == "boolean":
        schema = {"type": "boolean"}
    else:
        raise ValueError(f"unsupported MWAA parameter type {kind}")
    if meta.get("sensitive"):
        schema["writeOnly"] = True  # never in an answer (redacted)
    return schema


def _limits(meta: dict[str, Any], low: str, high: str) -> dict[str, int]:
    limits = {}
    if meta.get("min") is not None:
        limits[low] = meta["min"]
    if meta.get("max") is not None:
        limits[high] = meta["max"]
    return limits


def create_json_schema() -> dict[str, Any]:
    """The `create` object as JSON Schema (docs/openapi.yaml `CreateParameters`): exactly what
    `create_environment_problems` accepts but the cross-field rules (`_ORDERED_PAIRS`)."""
    schema = _json_schema(create_environment_shape())
    schema["properties"]["WebserverAccessMode"]["enum"] = list(ACCESS_MODES)
    return schema


if __name__ == "__main__":  # prints the schema for docs/openapi.yaml
    print(json.dumps(create_json_schema(), indent=2, ensure_ascii=True))
