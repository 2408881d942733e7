"""What the live-session check costs the current-user lookup (auth), on real PostgreSQL.

    DATABASE_URL=postgresql://... python bench/session_check.py

The database must be migrated with the auth module (a render's `alembic upgrade heads`).
Everything runs in one transaction that is rolled back: 5 000 users, each with one login
refreshed 20 times and one logged-out login, then the lookup before (user by id) and after
(user by id and live session), as prepared statements on one connection: round trips are
one each; the server's execution time is the median of `EXPLAIN ANALYZE`.
"""

import asyncio
import json
import os
import statistics
import time

import asyncpg

BEFORE = "SELECT * FROM users WHERE id = $1"
AFTER = """
SELECT users.* FROM users
WHERE users.id = $1 AND users.is_active
  AND EXISTS (SELECT 1 FROM refresh_tokens
              WHERE family = $2 AND user_id = users.id
                AND revoked_at IS NULL AND expires_at > now())
"""
SEED = """
INSERT INTO users (email, hashed_password)
SELECT 'bench-' || g || '@example.com', 'x' FROM generate_series(1, 5000) g;
INSERT INTO refresh_tokens (user_id, family, token_hash, expires_at, revoked_at)
SELECT u.id, f.family, md5(random()::text) || md5(random()::text), now() + interval '14 days',
       CASE WHEN r < 20 OR f.dead THEN now() END
FROM users u
CROSS JOIN LATERAL (VALUES (gen_random_uuid(), false), (gen_random_uuid(), true)) f(family, dead)
CROSS JOIN generate_series(1, 20) r;
ANALYZE users;
ANALYZE refresh_tokens;
"""


async def main() -> None:
    connection = await asyncpg.connect(os.environ["DATABASE_URL"].replace("+asyncpg", ""))
    transaction = connection.transaction()
    await transaction.start()
    try:
        await connection.execute(SEED)
        sessions = await connection.fetch(
            "SELECT user_id, family FROM refresh_tokens WHERE revoked_at IS NULL"
        )
        for name, sql in (("before", BEFORE), ("after", AFTER)):
            statement = await connection.prepare(sql)
            rounds = []
            for _ in range(6):
                started = time.perf_counter()
                for user_id, family in sessions[:2000]:
                    args = (user_id,) if name == "before" else (user_id, family)
                    assert await statement.fetchrow(*args) is not None
                rounds.append((time.perf_counter() - started) / 2000 * 1000)
            plans = [
                json.loads(
                    await connection.fetchval(
                        f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}",
                        *((sessions[0][0],) if name == "before" else tuple(sessions[0])),
                    )
                )[0]
                for _ in range(200)
            ]
            print(
                f"{name}: 1 round trip, {plans[-1]['Plan']['Shared Hit Blocks']} buffers hit, "
                f"server {statistics.median(p['Execution Time'] for p in plans):.3f} ms, "
                f"client {min(rounds):.2f} ms (min of 6 rounds of 2 000)"
            )
    finally:
        await transaction.rollback()
        await connection.close()


if __name__ == "__main__":
    asyncio.run(main())
