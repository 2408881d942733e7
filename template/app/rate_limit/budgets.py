"""Router-wide rate limits: one budget for all of a router's routes, per caller."""

from fastapi import Depends

from app.rate_limit.limiter import RateLimit

ITEMS_RATE_LIMIT = Depends(RateLimit(times=120, seconds=60, name="items"))
