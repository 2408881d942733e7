from typing import Annotated

from fastapi import APIRouter, Depends, Path, status

from app.api.deps import ItemServiceDep
from app.api.errors import ERROR_RESPONSES
from app.api.list_params import ListParamsParser
from app.schema.item import ItemCreate, ItemRead, ItemUpdate
from app.schema.list_params import ListParams
from app.schema.page import Page

router = APIRouter(prefix="/items", tags=["items"], responses=ERROR_RESPONSES)

ItemId = Annotated[int, Path(ge=1, le=2**63 - 1)]
ItemListParams = Annotated[
    ListParams,
    Depends(
        ListParamsParser(
            sortable=("id", "name", "quantity", "created_at", "updated_at"),
            filterable={"id": int, "name": str, "quantity": int},
            default_sort="-created_at",
        )
    ),
]


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_item(data: ItemCreate, service: ItemServiceDep) -> ItemRead:
    return ItemRead.model_validate(await service.create(data))


@router.get("")
async def list_items(params: ItemListParams, service: ItemServiceDep) -> Page[ItemRead]:
    items, total = await service.page(params)
    return Page(
        items=[ItemRead.model_validate(item) for item in items],
        total=total,
        limit=params.limit,
        offset=params.offset,
    )


@router.get("/{item_id}")
async def get_item(item_id: ItemId, service: ItemServiceDep) -> ItemRead:
    return ItemRead.model_validate(await service.get(item_id))


@router.patch("/{item_id}")
async def update_item(item_id: ItemId, data: ItemUpdate, service: ItemServiceDep) -> ItemRead:
    return ItemRead.model_validate(await service.update(item_id, data))


@router.delete("/{item_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_item(item_id: ItemId, service: ItemServiceDep) -> None:
    await service.delete(item_id)
