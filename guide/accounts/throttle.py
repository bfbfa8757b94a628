"""Throttles that hold across every process and machine: attempts counted per key in the database.

A key is an account or an address, kept only as a keyed hash (nothing typed is stored). Each
attempt *takes a turn* in one atomic SQL statement (INSERT … ON CONFLICT DO UPDATE … WHERE …
RETURNING, on SQLite and PostgreSQL alike): the first `free` attempts pass at once, and from
then on each attempt must wait a delay that doubles, up to `max_delay`. An attempt that comes
while the key is waiting is refused without any work done (no password is hashed). Two hundred
parallel attempts queue on the one row, so no race lets more through than the rule allows.
A key left alone for `forget_after` seconds starts again.

With GUIDE_REDIS_URL set, the counts are kept in Redis instead (RedisCounts: the same rule in one
Lua script, which Redis runs atomically), so that machines sharing a Redis share the counts
without a database write per attempt. `counts_for(app)` gives the one configured.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from ..models import ThrottleBucket


@dataclass(frozen=True)
class Rule:
    name: str
    free: int  # attempts that pass without waiting
    first_delay: float  # seconds to wait after the first attempt past `free`; doubles each time
    max_delay: float
    forget_after: float  # seconds of quiet after which a key starts again

    def delay(self, attempts: int) -> float:
        """How long the key must wait after its `attempts`-th attempt."""
        if attempts <= self.free:
            return 0.0
        return min(self.max_delay, self.first_delay * 2 ** (attempts - self.free - 1))

    def ladder_length(self) -> int:
        """Attempts past `free` until the delay reaches its cap: the rungs of the SQL CASE."""
        rungs, delay = 0, self.first_delay
        while delay < self.max_delay:
            rungs, delay = rungs + 1, delay * 2
        return rungs + 1


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # whole seconds, for a Retry-After header and the message


def bucket_key(rule: Rule, subject: str, secret: bytes) -> str:
    """The stored key: the rule's name and a keyed hash of the subject (an email, an address)."""
    digest = hmac.new(secret, f"{rule.name}\0{subject}".encode(), hashlib.sha256).hexdigest()
    return f"{rule.name}:{digest}"


def _insert_for(engine: Engine):
    return (postgresql if engine.dialect.name == "postgresql" else sqlite).insert


class DatabaseCounts:
    """The counts in the app's database (the default): one atomic statement per attempt."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def take_turn(self, rule: Rule, key: str, now: float | None = None) -> Verdict:
        return take_turn(self.engine, rule, key, now)

    def forget(self, key: str) -> None:
        forget(self.engine, key)

    def give_back(self, rule: Rule, key: str) -> None:
        give_back(self.engine, rule, key)


def take_turn(engine: Engine, rule: Rule, key: str, now: float | None = None) -> Verdict:
    """Count one attempt for the key, if the key is not waiting: one atomic statement."""
    now = time.time() if now is None else now
    table = ThrottleBucket.__table__
    attempts = case((table.c.last_at < now - rule.forget_after, 1), else_=table.c.attempts + 1)
    # Within the free attempts nothing waits (0, not "now": a parallel attempt that read the clock
    # a moment earlier must not find the key blocked until a moment later).
    waits = [(attempts <= rule.free, 0.0)] + [
        (attempts == rule.free + n, now + rule.delay(rule.free + n)) for n in range(1, rule.ladder_length() + 1)]
    first_wait = now + rule.delay(1) if rule.delay(1) else 0.0
    statement = (_insert_for(engine)(table)
                 .values(key=key, attempts=1, last_at=now, blocked_until=first_wait)
                 .on_conflict_do_update(index_elements=[table.c.key],
                                        set_={"attempts": attempts, "last_at": now,
                                              "blocked_until": case(*waits, else_=now + rule.max_delay)},
                                        where=table.c.blocked_until <= now)
                 .returning(table.c.attempts))
    with engine.begin() as connection:
        taken = connection.execute(statement).first()
        if taken is not None:
            return Verdict(True)
        blocked_until = connection.execute(select(table.c.blocked_until).where(table.c.key == key)).scalar_one()
    return Verdict(False, max(1, int(blocked_until - now + 0.999)))


def forget(engine: Engine, key: str) -> None:
    """A success on this key (the right password for an account): its count starts again."""
    with engine.begin() as connection:
        connection.execute(delete(ThrottleBucket).where(ThrottleBucket.key == key))


def give_back(engine: Engine, rule: Rule, key: str) -> None:
    """A success from a shared key (an office's address): that attempt does not count against it."""
    table = ThrottleBucket.__table__
    with engine.begin() as connection:
        connection.execute(update(table).where(table.c.key == key, table.c.attempts > 0).values(
            attempts=table.c.attempts - 1,
            blocked_until=case((table.c.attempts - 1 <= rule.free, 0.0), else_=table.c.blocked_until)))


# The same rule as take_turn, run by Redis as one atomic script. Times go back as text: Redis
# turns a Lua number into a whole number on the way out.
_REDIS_TAKE_TURN = """
local now, free, first, cap, forget = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local stored = redis.call('HMGET', KEYS[1], 'attempts', 'last_at', 'blocked_until')
local attempts, last_at, blocked = tonumber(stored[1]) or 0, tonumber(stored[2]) or 0, tonumber(stored[3]) or 0
if blocked > now then return {0, tostring(blocked)} end
if last_at < now - forget then attempts = 0 end
attempts = attempts + 1
local blocked_until = 0
if attempts > free then blocked_until = now + math.min(cap, first * 2 ^ (attempts - free - 1)) end
redis.call('HSET', KEYS[1], 'attempts', attempts, 'last_at', now, 'blocked_until', blocked_until)
redis.call('EXPIRE', KEYS[1], math.ceil(forget + cap))
return {1, tostring(blocked_until)}
"""

_REDIS_GIVE_BACK = """
local attempts = tonumber(redis.call('HGET', KEYS[1], 'attempts') or '0')
if attempts <= 0 then return 0 end
redis.call('HSET', KEYS[1], 'attempts', attempts - 1)
if attempts - 1 <= tonumber(ARGV[1]) then redis.call('HSET', KEYS[1], 'blocked_until', 0) end
return 1
"""


class RedisCounts:
    """The counts in Redis (GUIDE_REDIS_URL), shared by every machine pointed at it."""

    def __init__(self, url: str):
        import redis

        self.client = redis.Redis.from_url(url)
        self._take_turn = self.client.register_script(_REDIS_TAKE_TURN)
        self._give_back = self.client.register_script(_REDIS_GIVE_BACK)

    def take_turn(self, rule: Rule, key: str, now: float | None = None) -> Verdict:
        now = time.time() if now is None else now
        allowed, blocked_until = self._take_turn(keys=[f"guide:throttle:{key}"], args=[
            repr(now), rule.free, rule.first_delay, rule.max_delay, rule.forget_after])
        if allowed:
            return Verdict(True)
        return Verdict(False, max(1, int(float(blocked_until) - now + 0.999)))

    def forget(self, key: str) -> None:
        self.client.delete(f"guide:throttle:{key}")

    def give_back(self, rule: Rule, key: str) -> None:
        self._give_back(keys=[f"guide:throttle:{key}"], args=[rule.free])


def counts_for(app) -> DatabaseCounts | RedisCounts:
    """The app's throttle counts: Redis when GUIDE_REDIS_URL is set, else its database."""
    counts = app.extensions.get("throttle_counts")
    if counts is None:
        url = app.config.get("REDIS_URL")
        counts = RedisCounts(url) if url else DatabaseCounts(app.extensions["db_engine"])
        app.extensions["throttle_counts"] = counts
    return counts
