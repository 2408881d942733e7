"""Issuing, rotating and revoking refresh tokens (and the access tokens that go with them)."""

import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import ClassVar

from app.auth.errors import AuthenticationError
from app.auth.tokens import create_access_token
from app.core.settings import Settings
from app.db.repositories.refresh_tokens import RefreshTokenRepository
from app.models.refresh_token import RefreshToken
from app.models.user import User
from app.schema.token import TokenPair


class RefreshTokenReusedError(AuthenticationError):
    # The family's revocation is the whole point: it must be committed, not rolled back.
    keeps_changes: ClassVar[bool] = True


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class TokenService:
    def __init__(self, repository: RefreshTokenRepository, settings: Settings) -> None:
        self.repository = repository
        self.settings = settings

    async def issue(self, user: User, family: uuid.UUID | None = None) -> TokenPair:
        raw = secrets.token_urlsafe(32)
        family = family or uuid.uuid4()
        await self.repository.add(
            RefreshToken(
                user_id=user.id,
                family=family,
                token_hash=_digest(raw),
                expires_at=datetime.now(UTC) + timedelta(days=self.settings.refresh_token_days),
            )
        )
        return TokenPair(
            access_token=create_access_token(user.id, family, self.settings),
            refresh_token=raw,
            expires_in=self.settings.access_token_minutes * 60,
        )

    async def use(self, raw: str) -> RefreshToken:
        """Spend a refresh token: it is revoked, and the caller issues its successor."""
        token = await self.repository.get_by_hash(_digest(raw))
        now = datetime.now(UTC)
        if token is None:
            raise AuthenticationError("The refresh token is invalid.")
        if token.revoked_at is not None:
            # A spent token came back: someone holds a copy. Log out every descendant, and
            # the access tokens of the family with them.
            await self.repository.revoke_family(token.family, now)
            raise RefreshTokenReusedError("The refresh token was already used; log in again.")
        if token.expires_at <= now:
            raise AuthenticationError("The refresh token has expired; log in again.")
        token.revoked_at = now
        return token

    async def revoke(self, raw: str) -> None:
        """Log out: the token's whole family, and with it the access tokens it issued."""
        token = await self.repository.get_by_hash(_digest(raw))
        if token is not None:
            await self.repository.revoke_family(token.family, datetime.now(UTC))
