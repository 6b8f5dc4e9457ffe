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
Float = Annotated[float, Strict(False)]  # JSON's 3 is a valid 3.0
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
        raise OperationError(ErrorCode.BAD_REQUEST, f"{where}: {_describe(exc)}") from None


def encode(value: Any) -> Any:
    """A result dataclass (or any value pydantic can serialise) as plain JSON data, camelCase keys."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return adapter(type(value)).dump_python(value, mode="json", by_alias=True)


def schema(kind: Any) -> dict[str, Any]:
    """The JSON Schema of ``kind`` as clients see it (camelCase names)."""
    return adapter(kind).json_schema(by_alias=True)


def _describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors(include_url=False)[:5]:
        where = ".".join(str(part) for part in error["loc"])
        parts.append(f"payload.{where}: {error['msg']}" if where else str(error["msg"]))
    more = exc.error_count() - len(parts)
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")
