from sqlalchemy import BigInteger, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class CacheVersion(Base):
    """The version of one tag (or prefix): bumped by every write that invalidates it, in
    that write's transaction (app/cache/versions.py)."""

    __tablename__ = "cache_versions"

    tag: Mapped[str] = mapped_column(Text, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
