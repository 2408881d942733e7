"""Tag versions: how a write invalidates cached values without ever talking to Redis.

Every tag (and every prefix, as the tag `prefix:<prefix>`) has a version in PostgreSQL,
in `cache_versions`. A cached value's key carries the sum of its tags' versions, read
just before the value is looked up; a write that invalidates tags bumps their versions
in its own transaction, right before it commits. So:

- An invalidation cannot be skipped or lost: if the write commits, the versions moved
  with it; if it rolls back, nothing moved. Redis being slow, paused or down at that
  moment changes nothing, since Redis is not involved.
- A read that starts after the write committed reads the new versions, so it asks for a
  key no value was stored under before the write, and reads the source.
- A read that raced the write (read version V before the commit) may store what it read
  under V. No reader asks for V once V+1 is committed, so that value is never served
  after the write; the TTL removes it.

Versions only grow, so a sum of versions never comes back to an earlier value. Old
entries are never deleted, only left to expire. The cost: a cached read is one version
lookup in PostgreSQL before the Redis GET.

A bumped row stays locked until its transaction commits, so writers that bump the same
row queue for it, one commit after the other. Each tag therefore has `STRIPES` rows, and
a write bumps one of them, drawn at random: its version is their sum, which still grows
with every committed write, and writers wait for each other only when they draw the
same row.
"""

import random
from collections.abc import Iterable

from sqlalchemy import (
    BigInteger,
    Connection,
    SmallInteger,
    any_,
    bindparam,
    cast,
    event,
    func,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.types import Text

from app.db.reads import Reader
from app.models.cache_version import CacheVersion

_PENDING = "cache_invalidations"
_SUM = select(
    cast(func.coalesce(func.sum(CacheVersion.version), 0), BigInteger).label("version")
).where(CacheVersion.tag == any_(bindparam("tags", type_=ARRAY(Text))))


def prefix_tag(prefix: str) -> str:
    """The tag a prefix's version is kept under."""
    return f"prefix:{prefix}"


def namespace_tags(namespace: str) -> tuple[str, ...]:
    """The prefix tags a namespace depends on: each leading run of its `:`-separated parts
    (`items:list` depends on the prefixes `items` and `items:list`)."""
    parts = namespace.split(":")
    return tuple(prefix_tag(":".join(parts[:n])) for n in range(1, len(parts) + 1))


# One statement for any set of tags, built once: SQLAlchemy compiles it once, where a
# VALUES list of the tags would be compiled anew for every write. Pass the tags sorted:
# unnest yields them in order, so concurrent writers lock the rows in the same order and
# queue instead of deadlocking.
_BUMP = (
    insert(CacheVersion)
    .from_select(
        ["tag", "stripe", "version"],
        select(
            func.unnest(bindparam("tags", type_=ARRAY(Text))),
            bindparam("stripe", type_=SmallInteger),
            literal(1, BigInteger),
        ),
    )
    .on_conflict_do_update(
        index_elements=[CacheVersion.tag, CacheVersion.stripe],
        set_={"version": CacheVersion.version + 1},
    )
)
# Rows per tag: enough that concurrent writers rarely draw the same one.
STRIPES = 16


def _stripe() -> int:
    return random.randrange(STRIPES)


def _bump_parameters(names: Iterable[str]) -> dict[str, object]:
    return {"tags": sorted(names), "stripe": _stripe()}


def invalidate(
    session: AsyncSession, *, tags: Iterable[str] = (), prefixes: Iterable[str] = ()
) -> None:
    """Bump these tags' and prefixes' versions in the session's transaction, just before
    it commits (nothing if it rolls back). Works in any session: a request's, a task's or
    a script's."""
    if not session.in_transaction():
        # Begun now (no I/O yet), so that a rollback before any query also drops these.
        session.sync_session.begin()
    pending: set[str] = session.info.setdefault(_PENDING, set())
    pending.update(tags)
    pending.update(prefix_tag(prefix) for prefix in prefixes)


async def bump(
    connection: AsyncConnection | AsyncSession,
    *,
    tags: Iterable[str] = (),
    prefixes: Iterable[str] = (),
) -> None:
    """Bump now, in the transaction `connection` is in (for code without a session)."""
    names = {*tags, *(prefix_tag(prefix) for prefix in prefixes)}
    if names:
        await connection.execute(_BUMP, _bump_parameters(names))


@event.listens_for(Session, "before_commit")
def _bump_before_commit(session: Session) -> None:
    # Flush first, so that the version rows are the last locks the transaction takes and
    # are held only for the commit.
    if names := session.info.pop(_PENDING, None):
        session.flush()
        connection: Connection = session.connection()
        connection.execute(_BUMP, _bump_parameters(names))


@event.listens_for(Session, "after_transaction_end")
def _forget_on_rollback(session: Session, transaction: SessionTransaction) -> None:
    # Only what survives to a commit is bumped; a rolled-back write changed nothing.
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


class TagVersions:
    """Reads tags' versions, on the reader's connections (autocommit: only committed
    versions are seen)."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader

    async def current(self, tags: Iterable[str]) -> int:
        """The sum of the tags' versions: it grows whenever one of them is bumped."""
        row = await self.reader.one_or_none(_SUM, tags=list(tags))
        return int(row["version"]) if row is not None else 0
