"""The same throttles with their counts in Redis (GUIDE_REDIS_URL), for machines that share one."""

from __future__ import annotations

import pytest

from guide.accounts import throttle, users

from tests.conftest import PASSWORD, SMALL_CONTENT, USERS, Client, build_app


@pytest.fixture(params=["database", "redis"])
def counts(request, app):
    if request.param == "database":
        return throttle.DatabaseCounts(app.extensions["db_engine"])
    return throttle.RedisCounts(request.getfixturevalue("redis_url"))


def test_the_delays_grow_and_a_quiet_key_starts_again(counts):
    rule = users.SIGN_IN_PER_ACCOUNT
    key = throttle.bucket_key(rule, "someone@example.org", b"k")
    moment = 1_000_000.0
    for _ in range(rule.free + 1):
        assert counts.take_turn(rule, key, now=moment).allowed
    waits = []
    for _ in range(6):
        refused = counts.take_turn(rule, key, now=moment)
        assert not refused.allowed
        waits.append(refused.retry_after)
        moment += refused.retry_after
        assert counts.take_turn(rule, key, now=moment).allowed
    assert waits == [2, 4, 8, 16, 32, 64]
    assert counts.take_turn(rule, key, now=moment + rule.forget_after + rule.max_delay + 1).allowed


def test_forget_and_give_back(counts):
    rule = users.SIGN_IN_PER_ADDRESS
    key = throttle.bucket_key(rule, "127.0.0.1", b"k")
    for _ in range(rule.free):
        assert counts.take_turn(rule, key, now=10.0).allowed
        counts.give_back(rule, key)
    assert counts.take_turn(rule, key, now=10.0).allowed  # every success gave its attempt back
    counts.forget(key)
    assert counts.take_turn(rule, key, now=10.0).allowed


def test_sixty_wrong_passwords_then_the_right_one_is_refused_with_redis(tmp_path, redis_url):
    app = build_app(tmp_path, SMALL_CONTENT, REDIS_URL=redis_url)
    assert isinstance(throttle.counts_for(app), throttle.RedisCounts)
    attacker = Client(app)
    attacker.get("/sign-in")
    statuses = [attacker.post("/sign-in", {"email": USERS["practitioner"]["email"], "password": f"guess {n} wrong"}).status_code
                for n in range(60)]
    assert statuses[:5] == [400] * 5 and statuses.count(429) >= 50
    assert attacker.post("/sign-in", {"email": USERS["practitioner"]["email"], "password": PASSWORD}).status_code == 429
