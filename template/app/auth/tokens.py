"""Access tokens: short-lived JWTs, with the algorithm, issuer and expiry all enforced."""

from datetime import UTC, datetime, timedelta

import jwt

from app.auth.errors import AuthenticationError
from app.core.settings import Settings

# Pinned: a token that names any other algorithm (`none` included) is refused.
ALGORITHM = "HS256"
ACCESS = "access"


def create_access_token(user_id: int, settings: Settings) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": str(user_id),
        "iss": settings.jwt_issuer,
        "iat": now,
        "exp": now + timedelta(minutes=settings.access_token_minutes),
        "type": ACCESS,
    }
    return jwt.encode(claims, settings.secret_key.get_secret_value(), algorithm=ALGORITHM)


def read_access_token(token: str, settings: Settings) -> int:
    """The user id the token was issued to; `AuthenticationError` for any other token."""
    try:
        claims = jwt.decode(
            token,
            settings.secret_key.get_secret_value(),
            algorithms=[ALGORITHM],
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "iat", "iss", "sub"]},
        )
    except jwt.ExpiredSignatureError:
        raise AuthenticationError("The access token has expired.") from None
    except jwt.InvalidTokenError:
        raise AuthenticationError("The access token is invalid.") from None
    subject = claims["sub"]
    if claims.get("type") != ACCESS or not isinstance(subject, str) or not subject.isdigit():
        raise AuthenticationError("The access token is invalid.")
    return int(subject)
