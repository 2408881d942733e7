import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Identity, Index, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class RefreshToken(Base):
    """One refresh token. Only its SHA-256 is stored, so a database leak yields no tokens.

    Every token descends from one login; they share a `family`. Using a token replaces it
    with a new one of the same family; presenting a replaced token again means it was
    stolen, and the whole family is revoked.

    A family is one login (a session): access tokens name it, and are accepted only while
    it has a live token, so revoking the family ends its access tokens at once.
    """

    __tablename__ = "refresh_tokens"
    # What every authenticated request probes: only the unrevoked tokens, one per session.
    __table_args__ = (
        Index(
            "ix_refresh_tokens_live_family",
            "family",
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    family: Mapped[uuid.UUID] = mapped_column(index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
