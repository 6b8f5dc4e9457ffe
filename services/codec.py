"""Parameters and results as JSON: decoded, validated, encoded and described by one library (pydantic).

Operations declare frozen dataclasses with snake_case fields; on the wire they are camelCase (``endLine``,
``exitCode``, ``contextId``: the shapes the seed and the first faces published). pydantic derives the
validator, the serialiser and the JSON Schema from the same class, so what ``nexus api schema`` prints is
what is enforced. Unknown keys are ignored (older and newer clients keep working); a wrong type is an
error naming the field. JSON has no "5 means five", so numbers and booleans are strict.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import ConfigDict, Field, Strict, TypeAdapter, ValidationError
from pydantic.alias_generators import to_camel

from .errors import ErrorCode, OperationError

T = TypeVar("T")

WIRE = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore",
                  ser_json_inf_nan="null")
"""Every params and result dataclass sets ``__pydantic_config__ = WIRE``."""

Int = Annotated[int, Strict()]
Bool = Annotated[bool, Strict()]
Float = Annotated[float, Strict()]  # strict still takes JSON's 3 as 3.0
Text = Annotated[str, Strict()]


Name = Annotated[str, Strict(), Field(min_length=1, max_length=128)]
"""An id, a provider or model name, a language."""
PathText = Annotated[str, Strict(), Field(min_length=1, max_length=4096)]


_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def adapter(kind: Any) -> TypeAdapter[Any]:
    """pydantic's validator/serialiser of ``kind``, built once (building one costs about a millisecond)."""
    found = _ADAPTERS.get(kind)
    if found is None:
        found = _ADAPTERS[kind] = TypeAdapter(kind)
    return found


def decode(kind: type[T], payload: Any, *, where: str) -> T:
    """``payload`` (parsed JSON) as a ``kind``. Raises OperationError(bad_request) naming the field."""
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        raise OperationError(ErrorCode.BAD_REQUEST, f"{where}: payload must be a JSON object")
    try:
        value: T = adapter(kind).validate_python(payload)
        return value
    except ValidationError as exc:
        raise OperationError(ErrorCode.BAD_REQUEST, f"{where}: {_describe(exc, kind)}") from None


def encode(value: Any) -> Any:
    """A result dataclass (or any value pydantic can serialise) as plain JSON data, camelCase keys."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    data = adapter(type(value)).dump_python(value, mode="json", by_alias=True)
    if getattr(type(value), "__wire_omit_none__", False):  # "not asked for" fields are absent, not null
        data = {key: item for key, item in data.items() if item is not None}
    return data


def schema(kind: Any) -> dict[str, Any]:
    """The JSON Schema of ``kind`` as clients see it (camelCase names)."""
    return adapter(kind).json_schema(by_alias=True)


def _describe(exc: ValidationError, kind: Any) -> str:
    parts = []
    for error in exc.errors(include_url=False)[:5]:
        loc = [str(part) for part in error["loc"]]
        field = "payload." + ".".join(loc) if loc else "payload"
        parts.append(f"{field} {_phrase(error, kind, loc)}")
    more = exc.error_count() - len(parts)
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


_PHRASES = {
    "missing": "is required",
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "int_from_float": "must be an integer",
    "float_type": "must be a number",
    "bool_type": "must be true or false",
    "dict_type": "must be a JSON object",
    "dataclass_type": "must be a JSON object",
    "tuple_type": "must be a list",
    "list_type": "must be a list",
    "finite_number": "must be a finite number",
}


def _phrase(error: Any, kind: Any, loc: list[str]) -> str:
    """pydantic's error in the words the first faces used ("payload.limit must be between 1 and 200")."""
    kind_of, ctx = error["type"], error.get("ctx") or {}
    if kind_of in _PHRASES:
        return _PHRASES[kind_of]
    if kind_of == "string_too_short" and ctx.get("min_length") == 1:
        return "must not be empty"
    if kind_of == "string_too_long":
        return f"is longer than {ctx.get('max_length')} characters"
    if kind_of in ("too_long", "too_short"):
        return f"must have {ctx.get('min_length', 0)} to {ctx.get('max_length', 'any number of')} items"
    if kind_of == "literal_error":
        return f"must be one of {ctx.get('expected', '').replace(' or ', ', ')}".replace("'", "")
    if kind_of in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        low, high = _bounds(kind, loc)
        if low is not None and high is not None:
            return f"must be between {low} and {high}"
    if kind_of == "string_pattern_mismatch":
        described = _property(kind, loc).get("description")
        if described:
            return f"must be {described}"
    return str(error["msg"][0].lower() + error["msg"][1:]) if error.get("msg") else "is invalid"


def _property(kind: Any, loc: list[str]) -> dict[str, Any]:
    """The JSON Schema of the top-level field ``loc[0]`` (with ``anyOf`` for optional fields flattened)."""
    if not loc:
        return {}
    found: dict[str, Any] = schema(kind).get("properties", {}).get(loc[0], {})
    for option in found.get("anyOf", []):
        if option.get("type") != "null":
            return {**option, **{k: v for k, v in found.items() if k != "anyOf"}}
    return found


def _bounds(kind: Any, loc: list[str]) -> tuple[Any, Any]:
    prop = _property(kind, loc)
    return prop.get("minimum", prop.get("exclusiveMinimum")), prop.get("maximum", prop.get("exclusiveMaximum"))
