"""An app of the test's own served over HTTP on loopback, for attacks made in parallel."""

from __future__ import annotations

import pytest


@pytest.fixture
def live_app(app):
    from tests.conftest import served
    with served(app) as live:
        yield live


ADMIN = dict(email="ada@example.org", name="Ada Admin", role="admin", agency="Northshire Council",
             team="Digital", job_title="Administrator")


@pytest.fixture
def admin(app):
    """A signed-in administrator."""
    from guide.accounts.users import create_user
    from tests.conftest import PASSWORD, Client

    session = app.extensions["db_sessions"]()
    create_user(session, password=PASSWORD, **ADMIN)
    session.commit()
    session.close()
    client = Client(app)
    client.get("/sign-in")
    assert client.post("/sign-in", {"email": ADMIN["email"], "password": PASSWORD}).status_code == 303
    client.get("/admin/users")  # the signed-in session's form token, as a browser would have it
    return client


def hidden_fields(page: str, prefix: str = "") -> list[tuple[str, str]]:
    """The hidden inputs of a page (name, value), as a browser would send them."""
    import html
    import re
    return [(html.unescape(name)[len(prefix):], html.unescape(value))
            for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page)
            if html.unescape(name).startswith(prefix)]


@pytest.fixture
def redis_url(tmp_path):
    """A throw-away Redis on a free loopback port (Debian's redis-server), removed afterwards."""
    import shutil
    import socket
    import subprocess
    import time

    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                               "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis
    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    client.close()
    server.terminate()
    server.wait(10)
