"""Password hashing with Argon2, off the event loop, and with constant-time misses."""

import secrets
from functools import cache

from anyio import to_thread
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

hasher = PasswordHash((Argon2Hasher(),))


@cache
def _dummy_hash() -> str:
    """Verified against when the e-mail is unknown, so that a miss costs as much as a hit
    and the response time does not tell which e-mails have accounts. Made on first use,
    not at import: hashing at import added 0.13 s to every start."""
    return hasher.hash(secrets.token_urlsafe(16))


def _verify_unknown(password: str) -> None:
    hasher.verify(password, _dummy_hash())


async def hash_password(password: str) -> str:
    return await to_thread.run_sync(hasher.hash, password)


async def verify_password(password: str, hashed: str | None) -> tuple[bool, str | None]:
    """Whether the password matches, and a new hash when the stored one is outdated."""
    if hashed is None:
        await to_thread.run_sync(_verify_unknown, password)
        return False, None
    return await to_thread.run_sync(hasher.verify_and_update, password, hashed)
