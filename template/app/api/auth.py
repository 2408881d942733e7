"""The auth module's dependencies: who is calling (the user behind the bearer token, if
any), the permissions a route requires of them, and the account services."""

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from app.api.deps import SettingsDep
from app.auth.errors import AuthenticationError, PermissionDeniedError
from app.auth.permissions import Permission
from app.auth.policies import ItemOwnership
from app.auth.tokens import AccessClaims, read_access_token
from app.db.repositories.refresh_tokens import RefreshTokenRepository
from app.db.repositories.users import UserRepository
from app.db.session import SessionDep
from app.models.user import User
from app.services.tokens import TokenService
from app.services.users import SignedIn, SignedInReads, UserService
from app.state import app_state

# auto_error=False: a missing token is answered in the project's error schema, not FastAPI's.
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def get_access_claims(
    token: Annotated[str | None, Depends(oauth2_scheme)], request: Request
) -> AccessClaims | None:
    # The settings from the request rather than `SettingsDep`: one dependency fewer to
    # resolve on every authenticated request.
    return None if token is None else read_access_token(token, app_state(request.app).settings)


async def get_optional_user(
    claims: Annotated[AccessClaims | None, Depends(get_access_claims)], session: SessionDep
) -> User | None:
    if claims is None:
        return None
    # One query: the account, only if it is active and the token's session is live.
    user = await UserRepository(session).get_signed_in(claims.user_id, claims.session_id)
    if user is None:
        raise AuthenticationError("The session has ended or the account is disabled.")
    return user


async def get_current_user(user: Annotated[User | None, Depends(get_optional_user)]) -> User:
    if user is None:
        raise AuthenticationError("You need to log in.")
    return user


async def get_current_claims(
    claims: Annotated[AccessClaims | None, Depends(get_access_claims)],
) -> AccessClaims:
    if claims is None:
        raise AuthenticationError("You need to log in.")
    return claims


OptionalUser = Annotated[User | None, Depends(get_optional_user)]
CurrentUser = Annotated[User, Depends(get_current_user)]
# The caller's token, for the session it belongs to; read once per request.
CurrentClaims = Annotated[AccessClaims, Depends(get_current_claims)]


async def get_signed_in(
    claims: Annotated[AccessClaims | None, Depends(get_access_claims)], request: Request
) -> SignedIn:
    """The caller without the account's ORM object, for routes that only check who they
    are: the same check as `CurrentUser`'s, at a fraction of its cost."""
    if claims is None:
        raise AuthenticationError("You need to log in.")
    caller = await SignedInReads(app_state(request.app).database.reader).get(claims)
    if caller is None:
        raise AuthenticationError("The session has ended or the account is disabled.")
    return caller


SignedInCaller = Annotated[SignedIn, Depends(get_signed_in)]


async def get_item_guard(caller: SignedInCaller) -> ItemOwnership:
    """Only a signed-in user changes items, and only their own (an administrator, any)."""
    return ItemOwnership(caller)


ItemGuardDep = Annotated[ItemOwnership, Depends(get_item_guard)]


async def get_user_service(session: SessionDep, settings: SettingsDep) -> UserService:
    return UserService(UserRepository(session), RefreshTokenRepository(session), settings)


async def get_token_service(session: SessionDep, settings: SettingsDep) -> TokenService:
    return TokenService(RefreshTokenRepository(session), settings)


UserServiceDep = Annotated[UserService, Depends(get_user_service)]
TokenServiceDep = Annotated[TokenService, Depends(get_token_service)]


def require(*permissions: type[Permission]) -> Any:
    """A dependency that passes when every permission allows the caller:
    `dependencies=[require(IsAdmin)]` on a router or a route."""
    checks = [permission() for permission in permissions]

    async def check(user: OptionalUser) -> None:
        for permission in checks:
            if permission.allows(user):
                continue
            if user is None and permission.needs_login:
                raise AuthenticationError("You need to log in.")
            raise PermissionDeniedError(permission.message)

    return Depends(check)
