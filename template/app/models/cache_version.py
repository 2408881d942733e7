from sqlalchemy import BigInteger, SmallInteger, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class CacheVersion(Base):
    """One of the counters of a tag (or prefix): a write that invalidates the tag bumps one
    of them, in that write's transaction; the tag's version is their sum
    (app/cache/versions.py)."""

    __tablename__ = "cache_versions"

    tag: Mapped[str] = mapped_column(Text, primary_key=True)
    stripe: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
