"""Sign-up and the OAuth2 password flow: tokens, refresh, logout."""

from typing import Annotated

from fastapi import APIRouter, Form, status
from pydantic import BaseModel

from app.api.errors import ERROR_RESPONSES
from app.auth.dependencies import TokenServiceDep, UserServiceDep
from app.auth.errors import AUTH_ERROR_RESPONSES, AuthenticationError
from app.schema.token import RefreshRequest, TokenPair
from app.schema.user import MAX_PASSWORD_LENGTH, UserCreate, UserRead

router = APIRouter(
    prefix="/auth",
    tags=["auth"],
    responses={**ERROR_RESPONSES, **AUTH_ERROR_RESPONSES},
)


class LoginForm(BaseModel):
    """The OAuth2 password grant's form, with bounds: an endless password is refused
    before it costs a hash."""

    username: Annotated[str, Form(min_length=1, max_length=320)]
    password: Annotated[str, Form(min_length=1, max_length=MAX_PASSWORD_LENGTH)]


@router.post("/signup", status_code=status.HTTP_201_CREATED)
async def sign_up(data: UserCreate, users: UserServiceDep) -> UserRead:
    return UserRead.model_validate(await users.register(data))


@router.post("/token")
async def log_in(
    form: Annotated[LoginForm, Form()], users: UserServiceDep, tokens: TokenServiceDep
) -> TokenPair:
    """Log in with e-mail (as `username`) and password; Swagger's Authorize button uses it."""
    user = await users.authenticate(form.username, form.password)
    return await tokens.issue(user)


@router.post("/refresh")
async def refresh(
    body: RefreshRequest, users: UserServiceDep, tokens: TokenServiceDep
) -> TokenPair:
    spent = await tokens.use(body.refresh_token)
    user = await users.get(spent.user_id)
    if not user.is_active:
        raise AuthenticationError("The account is disabled.")
    return await tokens.issue(user, family=spent.family)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def log_out(body: RefreshRequest, tokens: TokenServiceDep) -> None:
    """Revoke the refresh token and every token descended from the same login."""
    await tokens.revoke(body.refresh_token)
