"""Accounts: sign-up, login, profile changes. Flushes only; the request commits."""

from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError

from app.auth.errors import AuthenticationError, PermissionDeniedError
from app.auth.passwords import hash_password, verify_password
from app.core.errors import ConflictError, NotFoundError, sqlstate
from app.db.repositories.users import UserRepository
from app.models.user import User
from app.schema.list_params import ListParams
from app.schema.user import UserCreate, UserUpdateAdmin, UserUpdateMe

UNIQUE_VIOLATION = "23505"
BAD_CREDENTIALS = "Incorrect email or password."


class UserService:
    def __init__(self, repository: UserRepository) -> None:
        self.repository = repository

    async def register(self, data: UserCreate, *, is_admin: bool = False) -> User:
        user = User(
            email=data.email,
            hashed_password=await hash_password(data.password),
            full_name=data.full_name,
            is_admin=is_admin,
        )
        return await self._save(user, data.email)

    async def authenticate(self, email: str, password: str) -> User:
        user = await self.repository.get_by_email(email)
        # The password is checked even for unknown e-mails: same work, same answer, same time.
        valid, new_hash = await verify_password(password, user.hashed_password if user else None)
        if user is None or not valid:
            raise AuthenticationError(BAD_CREDENTIALS)
        if not user.is_active:
            raise PermissionDeniedError("The account is disabled.")
        if new_hash is not None:
            user.hashed_password = new_hash  # the hashing parameters changed since last login
        return user

    async def get(self, user_id: int) -> User:
        user = await self.repository.get(user_id)
        if user is None:
            msg = f"User {user_id} does not exist."
            raise NotFoundError(msg)
        return user

    async def page(self, params: ListParams) -> tuple[Sequence[User], int]:
        return await self.repository.page(params)

    async def update_me(self, user: User, data: UserUpdateMe) -> User:
        changes = data.model_dump(exclude_unset=True, exclude={"password"})
        if data.password is not None:
            changes["hashed_password"] = await hash_password(data.password)
        return await self._apply(user, changes, data.email)

    async def update(self, user: User, data: UserUpdateAdmin) -> User:
        return await self._apply(user, data.model_dump(exclude_unset=True), None)

    async def _apply(self, user: User, changes: dict[str, object], email: str | None) -> User:
        for field, value in changes.items():
            if value is None:
                continue  # explicit nulls leave a field as it is
            setattr(user, field, value)
        return await self._save(user, email)

    async def _save(self, user: User, email: str | None) -> User:
        try:
            return await self.repository.add(user)
        except IntegrityError as exc:
            if sqlstate(exc) == UNIQUE_VIOLATION:
                raise ConflictError(f"An account for {email} already exists.") from exc
            raise
