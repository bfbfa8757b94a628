"""Real names: children called Zoë, Siân, Łukasz, Nguyễn or O’Neill are found however the name is typed;
part names and wildcards stay refused; children recorded before the new rule are still found."""

import datetime as dt
import re

import pytest
from sqlalchemy import text as sql

from guide.models import IndexChild

from tests.conftest import REAL_CONTENT, build_app, fresh_database_url
from tests.index.test_index import CHILD, look_up, setup_index, signed_in

# (recorded as: family, given) → ways a practitioner may type them
NAMES = [
    (("O’Neill", "Zoë"), [("O'Neill", "Zoë"), ("o’neill", "ZOË"), ("O\u02bcNeill", "Zoe\u0308"), ("ONeill", "zoë")]),
    (("Jones-Evans", "Siân"), [("Jones–Evans", "Siân"), ("JONES EVANS", "SIÂN"), ("jones-evans", "Sia\u0302n")]),
    (("Wiśniewski", "Łukasz"), [("WIŚNIEWSKI", "ŁUKASZ"), ("wis\u0301niewski", "łukasz")]),
    (("Nguyễn", "Minh"), [("NGUYỄN", "Minh"), ("nguyễn", "minh")]),
]


@pytest.fixture
def app_with_names(tmp_path):
    app = build_app(tmp_path, REAL_CONTENT)
    setup_index(app)
    session = app.extensions["db_sessions"]()
    ids = {}
    for n, ((family, given), _) in enumerate(NAMES):
        child = IndexChild(**{**CHILD, "upn": f"B{n:012d}", "family_name": family, "given_name": given,
                              "postcode": "ZZ2 2ZZ"})
        session.add(child)
        session.flush()
        ids[(family, given)] = child.id
    session.commit()
    session.close()
    return app, ids


@pytest.mark.parametrize("recorded, typed", [(names, typed) for names, ways in NAMES for typed in ways])
def test_a_name_with_any_letters_is_found_however_it_is_typed(app_with_names, recorded, typed):
    app, ids = app_with_names
    client = signed_in(app, "ordinary")
    response = look_up(client, family_name=typed[0], given_name=typed[1])
    assert response.status_code == 303, response.get_data(as_text=True)
    assert f"/index/children/{ids[recorded]}?" in response.location


@pytest.mark.parametrize("family, given", [("Nguy*", "Minh"), ("Nguyễn", "M"), ("Ł", "Łukasz"), ("O’%", "Zoë"),
                                           ("_", "Zoë"), ("Nguyễn", "Mi?h"), ("’’", "Zoë"), ("Nguyễn1", "Minh")])
def test_part_names_and_wildcards_are_still_refused(app_with_names, family, given):
    app, _ = app_with_names
    response = look_up(signed_in(app, "ordinary"), family_name=family, given_name=given)
    assert response.status_code == 400 and "full first name" in response.get_data(as_text=True)


def test_children_recorded_under_the_old_name_rule_are_found_after_the_migration(tmp_path):
    """Before 0010 a name kept only a–z ("Zoë" → "zo"); the migration recomputes every identity blind index."""
    from alembic import command

    from guide.crypto import KeyRing, new_key
    from guide.db import alembic_config, migrate
    key = new_key()
    keyring = KeyRing([key])
    url = fresh_database_url(tmp_path)
    command.upgrade(alembic_config(url, keyring), "0008")
    from sqlalchemy import create_engine
    engine = create_engine(url)
    old_key = lambda name: re.sub(r"[^a-z]", "", name.lower())  # noqa: E731  (the rule before 0010)
    child = {**CHILD, "upn": "C000000000001", "family_name": "Wiśniewski", "given_name": "Zoë"}
    encrypted = {name: keyring.encrypt(str(child[name] if name != "dob" else child[name].isoformat()).encode(),
                                       f"index_children.{name}")
                 for name in ("upn", "family_name", "given_name", "dob", "gender", "address", "postcode", "carer_name",
                              "carer_contact", "school", "gp_practice")}
    with engine.begin() as connection:
        connection.execute(sql(
            "INSERT INTO index_children (upn, upn_key, family_name, given_name, dob, identity_key, gender, address, "
            "postcode, carer_name, carer_contact, school, gp_practice, health_visitor, created_at) VALUES (:upn, :upn_key, "
            ":family_name, :given_name, :dob, :identity_key, :gender, :address, :postcode, :carer_name, :carer_contact, "
            ":school, :gp_practice, :hv, :at)"),
            {**encrypted, "upn_key": keyring.blind_index(child["upn"]), "hv": keyring.encrypt(b"", "index_children.health_visitor"),
             "identity_key": keyring.blind_index(f"{old_key('Wiśniewski')}|{old_key('Zoë')}|2012-05-17"),
             "at": dt.datetime(2026, 1, 1)})
        child_id = connection.execute(sql("SELECT max(id) FROM index_children")).scalar()
    engine.dispose()
    migrate(url, keyring)
    app = build_app(tmp_path, REAL_CONTENT, DATABASE_URL=url, ENCRYPTION_KEYS=key)
    setup_index(app)
    response = look_up(signed_in(app, "ordinary"), family_name="WIŚNIEWSKI", given_name="zoë")
    assert response.status_code == 303 and f"/index/children/{child_id}?" in response.location
