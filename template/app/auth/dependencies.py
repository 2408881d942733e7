"""Who is calling (the user behind the bearer token, if any), and the account services."""

from typing import Annotated

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer

from app.api.deps import SettingsDep
from app.auth.errors import AuthenticationError
from app.auth.tokens import read_access_token
from app.db.repositories.refresh_tokens import RefreshTokenRepository
from app.db.repositories.users import UserRepository
from app.db.session import SessionDep
from app.models.user import User
from app.services.tokens import TokenService
from app.services.users import UserService

# auto_error=False: a missing token is answered in the project's error schema, not FastAPI's.
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def get_optional_user(
    token: Annotated[str | None, Depends(oauth2_scheme)],
    session: SessionDep,
    settings: SettingsDep,
) -> User | None:
    if token is None:
        return None
    user = await UserRepository(session).get(read_access_token(token, settings))
    if user is None or not user.is_active:
        raise AuthenticationError("The account does not exist or is disabled.")
    return user


async def get_current_user(user: Annotated[User | None, Depends(get_optional_user)]) -> User:
    if user is None:
        raise AuthenticationError("You need to log in.")
    return user


OptionalUser = Annotated[User | None, Depends(get_optional_user)]
CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_user_service(session: SessionDep) -> UserService:
    return UserService(UserRepository(session))


async def get_token_service(session: SessionDep, settings: SettingsDep) -> TokenService:
    return TokenService(RefreshTokenRepository(session), settings)


UserServiceDep = Annotated[UserService, Depends(get_user_service)]
TokenServiceDep = Annotated[TokenService, Depends(get_token_service)]
