"""Password hashing with Argon2, off the event loop, and with constant-time misses."""

import secrets

from anyio import to_thread
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

hasher = PasswordHash((Argon2Hasher(),))

# Verified against when the e-mail is unknown, so that a miss costs as much as a hit and
# the response time does not tell which e-mails have accounts.
_DUMMY_HASH = hasher.hash(secrets.token_urlsafe(16))


async def hash_password(password: str) -> str:
    return await to_thread.run_sync(hasher.hash, password)


async def verify_password(password: str, hashed: str | None) -> tuple[bool, str | None]:
    """Whether the password matches, and a new hash when the stored one is outdated."""
    if hashed is None:
        await to_thread.run_sync(hasher.verify, password, _DUMMY_HASH)
        return False, None
    return await to_thread.run_sync(hasher.verify_and_update, password, hashed)
