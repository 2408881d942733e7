"""A dependency that parses `?limit=&offset=&sort=&filter=` against a resource's allow-lists.

    GET /items?sort=-created_at,name&filter=quantity:gte:5&filter=name:contains:bolt

Fields that are not allowed, unknown operators and values of the wrong type are refused
with a 422 in the project's error schema, never passed on to the database.
"""

from collections.abc import Collection, Mapping
from typing import Annotated, Any, get_args

from fastapi import Query
from pydantic import TypeAdapter, ValidationError

from app.core.errors import InvalidRequestError
from app.schema.errors import ErrorDetail
from app.schema.list_params import Filter, ListParams, Operator, Sort

OPERATORS: tuple[str, ...] = get_args(Operator)
MAX_LIMIT = 100


class ListParamsParser:
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

    async def __call__(
        self,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size.")] = 20,
        offset: Annotated[int, Query(ge=0, le=1_000_000, description="Rows to skip.")] = 0,
        sort: Annotated[
            str | None,
            Query(max_length=200, description="Comma-separated fields; prefix - to descend."),
        ] = None,
        filter: Annotated[
            list[str] | None,
            Query(max_length=200, description="field:operator:value, repeatable."),
        ] = None,
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
