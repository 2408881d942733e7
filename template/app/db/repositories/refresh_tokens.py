import uuid
from datetime import datetime

from sqlalchemy import select, update

from app.db.repositories.base import Repository
from app.models.refresh_token import RefreshToken


class RefreshTokenRepository(Repository[RefreshToken]):
    model = RefreshToken

    async def get_by_hash(self, token_hash: str) -> RefreshToken | None:
        stmt = select(RefreshToken).where(RefreshToken.token_hash == token_hash).with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def revoke_family(self, family: uuid.UUID, at: datetime) -> None:
        await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.family == family, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=at)
        )

    async def revoke_user(self, user_id: int, at: datetime, keep: uuid.UUID | None = None) -> None:
        """End every session of the user, but `keep`'s."""
        stmt = update(RefreshToken).where(
            RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None)
        )
        if keep is not None:
            stmt = stmt.where(RefreshToken.family != keep)
        await self.session.execute(stmt.values(revoked_at=at))
