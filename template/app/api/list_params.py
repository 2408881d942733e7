"""A dependency that parses `?limit=&offset=&sort=&filter=` against a resource's allow-lists.

    GET /items?sort=-created_at,name&filter=quantity:gte:5&filter=name:contains:bolt

Fields that are not allowed, unknown operators and values of the wrong type are refused
with a 422 in the project's error schema, never passed on to the database.
"""

import inspect
import re
from collections.abc import Collection, Mapping
from typing import Annotated, Any, get_args

from fastapi import Query
from pydantic import StringConstraints, TypeAdapter, ValidationError

from app.core.errors import InvalidRequestError
from app.schema.errors import ErrorDetail
from app.schema.list_params import Filter, ListParams, Operator, Sort

OPERATORS: tuple[str, ...] = get_args(Operator)
MAX_LIMIT = 100
# What a filter value may be, by the field's type: the OpenAPI description states it, and
# FastAPI refuses anything else before the parser sees it. Nine digits fit any integer
# column; text is anything PostgreSQL can store (no NUL).
_VALUE_PATTERNS: dict[type, str] = {int: "-?[0-9]{1,9}", bool: "true|false", str: "[^\\x00]*"}


class ListParamsParser:
    # FastAPI reads a dependency's parameters from its signature; each parser states its own
    # sortable fields and filters there, as patterns, so that OpenAPI describes exactly the
    # values it accepts.
    __signature__: inspect.Signature

    def __init__(
        self,
        *,
        sortable: Collection[str],
        filterable: Mapping[str, type],
        default_sort: str = "id",
    ) -> None:
        self.sortable = frozenset(sortable)
        self.filterable: dict[str, TypeAdapter[Any]] = {
            name: TypeAdapter(kind) for name, kind in filterable.items()
        }
        self.default_sort = self._parse_sort(default_sort)
        self.__signature__ = _signature(
            sort_pattern=_sort_pattern(self.sortable), filter_pattern=_filter_pattern(filterable)
        )

    async def __call__(
        self,
        limit: int = 20,
        offset: int = 0,
        sort: str | None = None,
        filter: list[str] | None = None,
    ) -> ListParams:
        return ListParams(
            limit=limit,
            offset=offset,
            sort=self._parse_sort(sort) if sort else self.default_sort,
            filters=tuple(self._parse_filter(raw) for raw in filter or ()),
        )

    def _parse_sort(self, raw: str) -> tuple[Sort, ...]:
        sorts = []
        for part in raw.split(","):
            name = part.strip().removeprefix("-")
            if name not in self.sortable:
                allowed = ", ".join(sorted(self.sortable))
                raise _invalid("sort", f"Cannot sort by {name!r}; allowed: {allowed}.")
            sorts.append(Sort(field=name, descending=part.strip().startswith("-")))
        return tuple(sorts)

    def _parse_filter(self, raw: str) -> Filter:
        name, _, rest = raw.partition(":")
        op, sep, value = rest.partition(":")
        if not sep:
            raise _invalid("filter", f"Filter {raw!r} is not of the form field:operator:value.")
        if name not in self.filterable:
            allowed = ", ".join(sorted(self.filterable))
            raise _invalid("filter", f"Cannot filter by {name!r}; allowed: {allowed}.")
        if op not in OPERATORS:
            raise _invalid("filter", f"Unknown operator {op!r}; allowed: {', '.join(OPERATORS)}.")
        adapter = self.filterable[name]
        if op == "contains" and adapter.json_schema().get("type") != "string":
            raise _invalid("filter", f"Operator 'contains' applies to text fields, not {name!r}.")
        try:
            parsed = adapter.validate_strings(value)
        except ValidationError:
            raise _invalid("filter", f"{value!r} is not a valid value for {name!r}.") from None
        return Filter(field=name, op=op, value=parsed)  # type: ignore[arg-type]


def _invalid(param: str, message: str) -> InvalidRequestError:
    detail = ErrorDetail(loc=["query", param], message=message, type="value_error")
    return InvalidRequestError(message, [detail])


def _sort_pattern(sortable: Collection[str]) -> str:
    field = "-?(?:" + "|".join(re.escape(name) for name in sorted(sortable)) + ")"
    return f"^{field}(?:,{field})*$"


def _filter_pattern(filterable: Mapping[str, type]) -> str:
    alternatives = []
    for name, kind in sorted(filterable.items()):
        operators = [op for op in OPERATORS if op != "contains" or kind is str]
        value = _VALUE_PATTERNS[kind]
        alternatives.append(f"{re.escape(name)}:(?:{'|'.join(operators)}):(?:{value})")
    return "^(?:" + "|".join(alternatives) + ")$"


def _signature(*, sort_pattern: str, filter_pattern: str) -> inspect.Signature:
    def query(name: str, annotation: Any, default: Any) -> inspect.Parameter:
        return inspect.Parameter(
            name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
        )

    return inspect.Signature(
        [
            query("limit", Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size.")], 20),
            query(
                "offset",
                Annotated[int, Query(ge=0, le=1_000_000, description="Rows to skip.")],
                0,
            ),
            query(
                "sort",
                Annotated[
                    str | None,
                    Query(
                        max_length=200,
                        pattern=sort_pattern,
                        description="Comma-separated fields; prefix - to descend.",
                    ),
                ],
                None,
            ),
            query(
                "filter",
                Annotated[
                    list[Annotated[str, StringConstraints(max_length=200, pattern=filter_pattern)]]
                    | None,
                    Query(max_length=200, description="field:operator:value, repeatable."),
                ],
                None,
            ),
        ]
    )
