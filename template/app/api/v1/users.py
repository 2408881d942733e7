"""The caller's own account, and account management for administrators."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from app.api.errors import ERROR_RESPONSES
from app.api.list_params import ListParamsParser
from app.auth.dependencies import CurrentUser, UserServiceDep
from app.auth.errors import AUTH_ERROR_RESPONSES
from app.auth.permissions import IsAdmin, require
from app.schema.list_params import ListParams
from app.schema.page import Page
from app.schema.user import UserRead, UserUpdateAdmin, UserUpdateMe

router = APIRouter(
    prefix="/users",
    tags=["users"],
    responses={**ERROR_RESPONSES, **AUTH_ERROR_RESPONSES},
)

UserId = Annotated[int, Path(ge=1, le=2**63 - 1)]
UserListParams = Annotated[
    ListParams,
    Depends(
        ListParamsParser(
            sortable=("id", "email", "created_at"),
            filterable={"email": str, "is_active": bool, "is_admin": bool},
            default_sort="id",
        )
    ),
]


@router.get("/me")
async def read_me(user: CurrentUser) -> UserRead:
    return UserRead.model_validate(user)


@router.patch("/me")
async def update_me(data: UserUpdateMe, user: CurrentUser, users: UserServiceDep) -> UserRead:
    return UserRead.model_validate(await users.update_me(user, data))


@router.get("", dependencies=[require(IsAdmin)])
async def list_users(params: UserListParams, users: UserServiceDep) -> Page[UserRead]:
    found, total = await users.page(params)
    return Page(
        items=[UserRead.model_validate(user) for user in found],
        total=total,
        limit=params.limit,
        offset=params.offset,
    )


@router.get("/{user_id}", dependencies=[require(IsAdmin)])
async def read_user(user_id: UserId, users: UserServiceDep) -> UserRead:
    return UserRead.model_validate(await users.get(user_id))


@router.patch("/{user_id}", dependencies=[require(IsAdmin)])
async def update_user(user_id: UserId, data: UserUpdateAdmin, users: UserServiceDep) -> UserRead:
    return UserRead.model_validate(await users.update(await users.get(user_id), data))
