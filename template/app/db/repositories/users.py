import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import bindparam, case, exists, func, select, update

from app.db.repositories.base import Repository
from app.models.refresh_token import RefreshToken
from app.models.user import User

# Who is behind an access token, in one round trip: the account must be active and the
# token's session (refresh-token family) still have a live token, so that logging out or
# revoking a family ends its access tokens at once. Built once: building costs more than
# running it.
SIGNED_IN = (
    User.id == bindparam("user_id"),
    User.is_active,
    exists().where(
        RefreshToken.family == bindparam("session_id"),
        RefreshToken.user_id == User.id,
        RefreshToken.revoked_at.is_(None),
        RefreshToken.expires_at > func.now(),
    ),
)
_SIGNED_IN = select(User).where(*SIGNED_IN)


class UserRepository(Repository[User]):
    model = User

    async def get_by_email(self, email: str) -> User | None:
        stmt = select(User).where(User.email == email.lower())
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def get_signed_in(self, user_id: int, session_id: uuid.UUID) -> User | None:
        result = await self.session.execute(
            _SIGNED_IN, {"user_id": user_id, "session_id": session_id}
        )
        return result.scalar_one_or_none()

    async def record_failed_login(
        self, user_id: int, *, lock_after: int, first_lock: timedelta, longest_lock: timedelta
    ) -> None:
        """Count a wrong password, atomically: from the `lock_after`th in a row the account
        is locked, for `first_lock`, doubling with each further one up to `longest_lock`."""
        failures = User.failed_logins + 1
        doublings = func.least(failures - lock_after, 30)
        lock = func.least(first_lock * func.power(2, doublings), longest_lock)
        # The statement's own time: now() would be its transaction's start.
        locked_until = func.statement_timestamp() + lock
        await self.session.execute(
            update(User)
            .where(User.id == user_id)
            .values(
                failed_logins=failures,
                locked_until=case((failures >= lock_after, locked_until), else_=User.locked_until),
            )
            .execution_options(synchronize_session=False)
        )

    async def lock_active_admins(self) -> Sequence[int]:
        """The active administrators' ids, locked until the transaction ends: two requests
        that each remove an administrator cannot both see the other one still there."""
        stmt = select(User.id).where(User.is_admin, User.is_active).with_for_update()
        return (await self.session.execute(stmt)).scalars().all()

    async def confirm_email(self, user_id: int, email: str, at: datetime) -> User | None:
        """Confirm the address if it is still the account's and not yet confirmed; atomic,
        so that a confirmation link works once even when followed twice at the same time."""
        stmt = (
            update(User)
            .where(User.id == user_id, User.email == email, User.email_confirmed_at.is_(None))
            .values(email_confirmed_at=at)
            .returning(User)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()
