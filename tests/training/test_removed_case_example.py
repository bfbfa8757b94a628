"""A case example removed from the content (issue 15.13): stored walks and live sessions on it get a
clear page, not a server error, and `content check` warns before the app starts on such content."""

from __future__ import annotations

import shutil
import subprocess
import sys

from guide import create_app

from tests.conftest import REAL_CONTENT, ROOT, Client
from tests.training.test_training_sessions import Room

CASE, CASE_FILE = "ce13_playgroup", "ce13-playgroup.yaml"


def test_stored_work_on_a_removed_case_example_gets_a_clear_page(real_app, tmp_path):
    learner = Client(real_app).sign_in("practitioner")
    learner.get(f"/cases/{CASE}")
    walk_url = learner.post(f"/cases/{CASE}/start").location
    walk_id = walk_url.split("/")[2]
    room = Room(real_app, cases=["ce08_police_nigel", CASE])
    ann = room.participant("Ann")
    room.move("start")

    content = tmp_path / "content"
    shutil.copytree(REAL_CONTENT, content)
    (content / "scenarios" / CASE_FILE).unlink()
    url = real_app.config["DATABASE_URL"]
    after = create_app({"DATABASE_URL": url, "SECRET_KEY": "test-secret", "CONTENT_DIR": content, "TESTING": True})

    learner = Client(after).sign_in("practitioner")
    for page in (walk_url, f"/cases/walks/{walk_id}/review"):
        response = learner.get(page)
        assert response.status_code == 410 and "no longer in the guide" in response.get_data(as_text=True), page
    trainer = Client(after).sign_in("trainer")
    control = trainer.get(f"/training/sessions/{room.session_id}")
    assert control.status_code == 410 and "removed from the guide" in control.get_data(as_text=True)
    participant = Client(after)
    participant.http.set_cookie("session", ann.http.get_cookie("session").value)
    assert participant.get(f"/join/{room.code}").status_code == 410

    # The content check, reading the same database, warns about what stored work still uses.
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "guide", "content", "check", "--dir", str(content),
                             "--database", url], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert f"1 stored walk(s) use '{CASE}'" in result.stderr
    assert f"1 stored live session(s) use '{CASE}'" in result.stderr
    clean = subprocess.run([sys.executable, "-m", "flask", "--app", "guide", "content", "check", "--database", url],
                           capture_output=True, text=True, cwd=ROOT)
    assert clean.returncode == 0 and "warning" not in clean.stderr
