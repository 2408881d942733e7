"""Accounts: sign-up, login, profile changes. Flushes only; the request commits."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import ClassVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.auth.errors import AuthenticationError, PermissionDeniedError
from app.auth.passwords import hash_password, verify_password
from app.auth.tokens import (
    AccessClaims,
    InvalidTokenError,
    create_confirmation_token,
    read_confirmation_token,
)
from app.core.errors import AppError, ConflictError, NotFoundError, sqlstate
from app.core.settings import Settings
from app.db.reads import Reader
from app.db.repositories.refresh_tokens import RefreshTokenRepository
from app.db.repositories.users import SIGNED_IN, UserRepository
from app.models.user import User
from app.schema.list_params import ListParams
from app.schema.user import UserCreate, UserUpdateAdmin, UserUpdateMe

UNIQUE_VIOLATION = "23505"
_SIGNED_IN_CALLER = select(User.__table__.c.id, User.__table__.c.is_admin).where(*SIGNED_IN)
# One answer for an unknown e-mail, a wrong password, a locked and a disabled account:
# a caller who does not know the password learns nothing about the account.
BAD_CREDENTIALS = "Incorrect email or password."
LONGEST_LOCK = timedelta(hours=1)


class LoginFailedError(AuthenticationError):
    # The failure is counted towards the lockout: that count must be committed.
    keeps_changes: ClassVar[bool] = True


class WrongPasswordError(PermissionDeniedError):
    """A signed-in caller gave a wrong current password; counted like a failed login."""

    keeps_changes: ClassVar[bool] = True


class InvalidConfirmationError(AppError):
    code = "invalid_token"


@dataclass(frozen=True, slots=True)
class SignedIn:
    """The caller behind an access token, as much as a route that only checks who they
    are needs: read without a session or an ORM object (app/db/reads.py says why)."""

    id: int
    is_admin: bool


class SignedInReads:
    def __init__(self, reader: Reader) -> None:
        self.reader = reader

    async def get(self, claims: AccessClaims) -> SignedIn | None:
        """The caller, if their account is active and the token's session is live."""
        row = await self.reader.one_or_none(
            _SIGNED_IN_CALLER, user_id=claims.user_id, session_id=claims.session_id
        )
        return None if row is None else SignedIn(**row)


class UserService:
    def __init__(
        self,
        repository: UserRepository,
        refresh_tokens: RefreshTokenRepository,
        settings: Settings,
    ) -> None:
        self.repository = repository
        self.refresh_tokens = refresh_tokens
        self.settings = settings

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
        if user is None:
            raise LoginFailedError(BAD_CREDENTIALS)
        await self._check_password(user, valid=valid, refusal=LoginFailedError(BAD_CREDENTIALS))
        if not user.is_active:
            raise LoginFailedError(BAD_CREDENTIALS)
        if new_hash is not None:
            user.hashed_password = new_hash  # the hashing parameters changed since last login
        return user

    async def _check_password(self, user: User, *, valid: bool, refusal: AppError) -> None:
        """Count a wrong password towards the lockout, refuse while the account is locked,
        and clear the count once the right password is given outside a lock."""
        if not valid:
            await self.repository.record_failed_login(
                user.id,
                lock_after=self.settings.login_lockout_failures,
                first_lock=timedelta(seconds=self.settings.login_lockout_seconds),
                longest_lock=LONGEST_LOCK,
            )
            raise refusal
        if user.locked_until is not None and user.locked_until > datetime.now(UTC):
            raise refusal
        if user.failed_logins or user.locked_until is not None:
            user.failed_logins = 0
            user.locked_until = None

    async def get(self, user_id: int) -> User:
        user = await self.repository.get(user_id)
        if user is None:
            msg = f"User {user_id} does not exist."
            raise NotFoundError(msg)
        return user

    async def page(self, params: ListParams) -> tuple[Sequence[User], int]:
        return await self.repository.page(params)

    async def update_me(self, user: User, data: UserUpdateMe, session_id: uuid.UUID) -> User:
        """Change the caller's own account. A new password or e-mail needs the current
        password, and ends every other session: whoever else was signed in must log in
        again, with the new credentials. The caller's own session goes on."""
        changes = data.model_dump(exclude_unset=True, exclude={"password", "current_password"})
        new_email = data.email is not None and data.email != user.email
        if data.password is not None or new_email:
            valid, _ = await verify_password(data.current_password or "", user.hashed_password)
            refusal = WrongPasswordError("The current password is wrong.")
            await self._check_password(user, valid=valid, refusal=refusal)
            await self.refresh_tokens.revoke_user(user.id, datetime.now(UTC), keep=session_id)
        if data.password is not None:
            changes["hashed_password"] = await hash_password(data.password)
        if new_email:
            user.email_confirmed_at = None  # the new address is nobody's word yet
        return await self._apply(user, changes, data.email)

    async def update(self, user: User, data: UserUpdateAdmin) -> User:
        if data.is_admin is False or data.is_active is False:
            # Locked: two administrators removing each other at once cannot both succeed.
            others = set(await self.repository.lock_active_admins()) - {user.id}
            if user.is_admin and user.is_active and not others:
                raise ConflictError("The last active administrator cannot be removed.")
        if data.is_active is False:
            await self.refresh_tokens.revoke_user(user.id, datetime.now(UTC))
        return await self._apply(user, data.model_dump(exclude_unset=True), None)

    def confirmation_token(self, user: User) -> str:
        return create_confirmation_token(user.id, user.email, self.settings)

    async def confirm_email(self, token: str) -> User:
        """Mark the address the token names confirmed: once, within the token's lifetime,
        and only while it is still the account's address."""
        try:
            user_id, email = read_confirmation_token(token, self.settings)
        except InvalidTokenError:
            raise InvalidConfirmationError("The confirmation link is invalid.") from None
        user = await self.repository.confirm_email(user_id, email, datetime.now(UTC))
        if user is None:
            raise InvalidConfirmationError("The confirmation link was used or is outdated.")
        return user

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
