"""Validated paging, sorting and filtering of list endpoints (parsed in `app.api.list_params`)."""

from dataclasses import dataclass
from typing import Literal

Operator = Literal["eq", "ne", "lt", "lte", "gt", "gte", "contains"]


@dataclass(frozen=True, slots=True)
class Sort:
    field: str
    descending: bool = False


@dataclass(frozen=True, slots=True)
class Filter:
    field: str
    op: Operator
    value: object


@dataclass(frozen=True, slots=True)
class ListParams:
    limit: int
    offset: int
    sort: tuple[Sort, ...]
    filters: tuple[Filter, ...]
