"""Signed tokens: short-lived access JWTs, and the e-mail confirmation tokens.

Every claim is required and checked: the algorithm is pinned, the issuer, audience and
type must be ours, and the subject must be a user id written exactly as we write it.
"""

import re
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

import jwt

from app.auth.errors import AuthenticationError
from app.core.settings import Settings

# Pinned: a token that names any other algorithm (`none` included) is refused.
ALGORITHM = "HS256"
ACCESS = "access"
CONFIRM_EMAIL = "confirm-email"
CONFIRMATION_LIFETIME = timedelta(hours=48)
_REQUIRED = ["exp", "iat", "iss", "aud", "sub", "typ"]
# A BIGINT primary key as `str(int)` writes it: no sign, spaces, leading zeros or decimals.
_USER_ID = re.compile(r"[1-9][0-9]{0,18}")
_MAX_USER_ID = 2**63 - 1


class InvalidTokenError(Exception):
    """The token is not one this service issued for this purpose."""


class ExpiredTokenError(InvalidTokenError):
    """The token was ours, and has expired."""


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: int
    # The login (refresh-token family) the token belongs to: ending it ends the token.
    session_id: uuid.UUID


def _encode(settings: Settings, typ: str, subject: int, lifetime: timedelta, **extra: str) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": str(subject),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + lifetime,
        "typ": typ,
        **extra,
    }
    return jwt.encode(claims, settings.secret_key.get_secret_value(), algorithm=ALGORITHM)


class _Checks(NamedTuple):
    """What a token is verified against: the secret, and the issuer and audience."""

    secret: str
    issuer: str
    audience: str


def _checks(settings: Settings) -> _Checks:
    secret = settings.secret_key.get_secret_value()
    return _Checks(secret, settings.jwt_issuer, settings.jwt_audience)


def _decode(token: str, checks: _Checks, typ: str) -> tuple[int, dict[str, Any]]:
    """The subject's user id and the claims; `InvalidTokenError` for anything else."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            checks.secret,
            algorithms=[ALGORITHM],
            issuer=checks.issuer,
            audience=checks.audience,
            options={"require": _REQUIRED, "strict_aud": True},
        )
    except jwt.ExpiredSignatureError as exc:
        raise ExpiredTokenError(str(exc)) from None
    except jwt.InvalidTokenError as exc:
        raise InvalidTokenError(str(exc)) from None
    return _user_id(claims, typ), claims


def _user_id(claims: dict[str, Any], typ: str) -> int:
    """The subject of a token of this type, as a user id; `InvalidTokenError` otherwise."""
    subject = claims["sub"]
    if (
        claims["typ"] != typ
        or not isinstance(subject, str)
        or not _USER_ID.fullmatch(subject)
        or int(subject) > _MAX_USER_ID
    ):
        msg = "not a token of this kind"
        raise InvalidTokenError(msg)
    return int(subject)


def create_access_token(user_id: int, session_id: uuid.UUID, settings: Settings) -> str:
    lifetime = timedelta(minutes=settings.access_token_minutes)
    return _encode(settings, ACCESS, user_id, lifetime, sid=str(session_id))


def read_access_token(token: str, settings: Settings) -> AccessClaims:
    """Who the token was issued to, and in which login; `AuthenticationError` otherwise."""
    try:
        claims, expires = _verified_access_token(token, _checks(settings))
    except ExpiredTokenError:
        raise AuthenticationError("The access token has expired.") from None
    except (InvalidTokenError, ValueError):
        raise AuthenticationError("The access token is invalid.") from None
    # A remembered token is checked for expiry again, as PyJWT checks it: expired at `exp`.
    if expires <= _now():
        raise AuthenticationError("The access token has expired.")
    return claims


# A client sends the same access token with every request for the token's lifetime, and
# checking its signature and claims is a tenth of a request's work: a token that passed
# is remembered (with what it was checked against), and only its expiry is checked again.
# A refused token is not remembered: it is checked in full each time it comes back.
@lru_cache(maxsize=4096)
def _verified_access_token(token: str, checks: _Checks) -> tuple[AccessClaims, float]:
    user_id, claims = _decode(token, checks, ACCESS)
    session = claims.get("sid")
    if not isinstance(session, str) or str(session_id := uuid.UUID(session)) != session:
        msg = "no session"
        raise InvalidTokenError(msg)
    return AccessClaims(user_id, session_id), float(claims["exp"])


def _now() -> float:
    return time.time()


def create_confirmation_token(user_id: int, email: str, settings: Settings) -> str:
    """Confirms `email` for the user. It is single-use without being stored: it names the
    address, and is refused once that address is confirmed or no longer the account's."""
    return _encode(settings, CONFIRM_EMAIL, user_id, CONFIRMATION_LIFETIME, email=email)


def read_confirmation_token(token: str, settings: Settings) -> tuple[int, str]:
    """(user id, e-mail) the token confirms; `InvalidTokenError` otherwise."""
    user_id, claims = _decode(token, _checks(settings), CONFIRM_EMAIL)
    email = claims.get("email")
    if not isinstance(email, str):
        msg = "no e-mail"
        raise InvalidTokenError(msg)
    return user_id, email
