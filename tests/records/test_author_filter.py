"""The records officer's "Practitioner" filter finds authors through an index of keyed hashes, not by decrypting everyone."""

import re

from sqlalchemy import event, select

from guide.crypto import new_key
from guide.models import UserSearchKey

from tests.conftest import SMALL_CONTENT, Client, build_app, create_app
from tests.records.test_records_officer import save


def count(page_text: str) -> str:
    """How many records the list says it holds ("There are no decision records" is none)."""
    found = re.search(r'<p class="govuk-body">(\d+) records?[,;]', page_text)
    return found.group(1) if found else "0"


def test_a_part_name_an_email_or_two_word_beginnings_find_the_author_and_a_middle_does_not(app):
    save(Client(app).sign_in("practitioner"), [("purpose", "no")], subject_ref="A-1")
    save(Client(app).sign_in("colleague"), [("purpose", "no")], subject_ref="A-2")
    officer = Client(app).sign_in("records")
    found = {text: count(officer.get(f"/records?author={text}").get_data(as_text=True))
             for text in ("pat", "PRACTI", "pat prac", "pat@example", "col", "ctitio", "pat colleague", "x")}
    assert found == {"pat": "1", "PRACTI": "1", "pat prac": "1", "pat@example": "1", "col": "1",
                     "ctitio": "0", "pat colleague": "0", "x": "0"}


def test_filtering_by_author_decrypts_no_user_but_the_officer(app):
    save(Client(app).sign_in("practitioner"), [("purpose", "no")], subject_ref="A-1")
    officer = Client(app).sign_in("records")
    officer.get("/records")
    users_read = []
    engine = app.extensions["db_engine"]

    def watch(conn, cursor, statement, parameters, context, executemany):
        # The signed-in user is read with their session (JOIN users), other users FROM users.
        if ("FROM users" in statement or "JOIN users" in statement) and "users.email" in statement:
            users_read.append(statement)

    event.listen(engine, "before_cursor_execute", watch)
    try:
        assert count(officer.get("/records?author=pat").get_data(as_text=True)) == "1"
    finally:
        event.remove(engine, "before_cursor_execute", watch)
    assert len(users_read) == 1  # the signed-in officer only


def test_the_index_holds_no_name_in_clear(app):
    session = app.extensions["db_sessions"]()
    keys = list(session.scalars(select(UserSearchKey.key)))
    session.close()
    assert keys and all(len(key) == 64 and "pat" not in key for key in keys)


def test_after_a_key_rotation_and_the_old_key_removed_authors_are_still_found(tmp_path):
    old, new = new_key(), new_key()
    app = build_app(tmp_path, SMALL_CONTENT, ENCRYPTION_KEYS=old)
    save(Client(app).sign_in("practitioner"), [("purpose", "no")], subject_ref="A-1")
    url = app.config["DATABASE_URL"]
    both = create_app({"DATABASE_URL": url, "SECRET_KEY": "test-secret", "CONTENT_DIR": SMALL_CONTENT,
                       "TESTING": True, "ENCRYPTION_KEYS": f"{new},{old}"})
    assert both.test_cli_runner().invoke(args=["keys", "rotate"]).exit_code == 0
    only_new = create_app({"DATABASE_URL": url, "SECRET_KEY": "test-secret", "CONTENT_DIR": SMALL_CONTENT,
                           "TESTING": True, "ENCRYPTION_KEYS": new})
    officer = Client(only_new).sign_in("records")
    assert count(officer.get("/records?author=practi").get_data(as_text=True)) == "1"
