"""Cache keys. Arguments are hashed, so any value (odd characters, unicode, huge strings)
makes a short, safe key; arguments that are not data (services, sessions, requests) are
left out, so that a path operation's key depends on its parameters only."""

import dataclasses
import enum
import hashlib
import inspect
import json
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from pydantic import BaseModel

# (function, its bound arguments) -> the part of the key that varies with the call.
KeyBuilder = Callable[[Callable[..., Any], Mapping[str, Any]], str]

_SCALARS = (str, int, float, bool, type(None), Decimal, UUID, date, datetime, enum.Enum)


def _as_data(value: Any) -> Any:
    """A JSON-able form of the value, or `inspect.Parameter.empty` if it is not data."""
    if isinstance(value, _SCALARS):
        return value if isinstance(value, str | int | float | bool | None) else str(value)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _as_data(dataclasses.asdict(value))
    if isinstance(value, list | tuple | set | frozenset):
        items = [_as_data(v) for v in value]
        return inspect.Parameter.empty if inspect.Parameter.empty in items else items
    if isinstance(value, Mapping):
        entries = {str(k): _as_data(v) for k, v in value.items()}
        return inspect.Parameter.empty if inspect.Parameter.empty in entries.values() else entries
    return inspect.Parameter.empty


def default_key_builder(func: Callable[..., Any], arguments: Mapping[str, Any]) -> str:
    data = {
        name: converted
        for name, value in sorted(arguments.items())
        if (converted := _as_data(value)) is not inspect.Parameter.empty
    }
    encoded = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()[:32]
