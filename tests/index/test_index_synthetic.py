"""Synthetic children for the index: the right number, valid and made-up identifiers, repeatable, findable."""

import datetime as dt
import os

os.environ.setdefault("GUIDE_CHEAP_PASSWORD_HASHING", "1")

import pytest
from sqlalchemy import Boolean, Date, DateTime, Integer, String, func, select

from guide.crypto import NORMALISERS, KeyRing, blind_match, new_key
from guide.db import make_engine, make_sessionmaker, migrate
from guide.index.policy import load_policy
from guide.index.names import is_full_name
from guide.index.service import POSTCODE, UPN, IndexService, LookupRequest
from guide.index.synthetic import generate, sample_lookups
from guide.models import IndexChild, IndexConcern, IndexInvolvement, User
from guide.accounts.users import create_user

from tests.conftest import PASSWORD, REAL_CONTENT, fresh_database_url

TODAY = dt.date(2026, 11, 24)  # fixed, so two runs on either side of midnight still match
COUNT = 2000
TABLES = (IndexChild, IndexInvolvement, IndexConcern)
# One key ring for every database here, so two generated databases can be compared row for row
# (blind indexes included).
KEYRING = KeyRing([new_key()])


@pytest.fixture(scope="module")
def policy():
    return load_policy(REAL_CONTENT)


def fresh(directory, users: int = 1):
    """A new migrated database: SQLite in `directory`, or on the TEST_POSTGRES_URL server when set."""
    directory.mkdir(parents=True, exist_ok=True)
    url = fresh_database_url(directory)
    migrate(url)
    engine = make_engine(url, KEYRING)
    session = make_sessionmaker(engine)()
    made = []
    for n in range(users):
        user = create_user(session, email=f"user{n}@example.org", name=f"User {n}", role="practitioner",
                           agency="Northshire Health", password=PASSWORD)
        user.index_designation = "user"
        made.append(user)
    session.commit()
    session.close()
    return engine


def rows(engine, model) -> list[tuple]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(select(model.__table__).order_by(model.id))]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory, policy):
    engine = fresh(tmp_path_factory.mktemp("synthetic"))
    added = generate(engine, COUNT, seed=1, batch=700, policy=policy, today=TODAY)
    yield engine, added
    engine.dispose()


def test_generates_the_number_asked_for(loaded):
    engine, added = loaded
    assert added == COUNT
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(IndexChild)) == COUNT
        # About 15% of children have someone recorded as involved, some with indicators of concern.
        involved = connection.scalar(select(func.count(func.distinct(IndexInvolvement.child_id))))
        assert 0.10 * COUNT < involved < 0.20 * COUNT
        assert connection.scalar(select(func.count()).select_from(IndexConcern)) > 0
        if connection.dialect.name == "sqlite":
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []


def test_identifiers_are_valid_unique_and_made_up(loaded):
    engine, _ = loaded
    children = rows(engine, IndexChild)
    columns = IndexChild.__table__.columns.keys()
    upns = [row[columns.index("upn")] for row in children]
    assert len(set(upns)) == COUNT
    assert all(UPN.match(upn) and upn[1:4] == "999" for upn in upns)
    for row in children:
        child = dict(zip(columns, row))
        assert POSTCODE.match(child["postcode"]) and child["postcode"].startswith("ZZ"), child
        assert not child["postcode"].startswith("ZZ99")  # the NHS's pseudo-postcodes
        assert child["carer_contact"][:9] in ("07700 900", "01632 960"), child  # Ofcom's drama numbers
        assert is_full_name(child["family_name"]) and is_full_name(child["given_name"]), child
        # The blind indexes the ORM would have filled on flush, computed by the bulk load itself.
        assert child["upn_key"] == KEYRING.blind_index(NORMALISERS["upn"](child["upn"])), child
        assert child["identity_key"] == KEYRING.blind_index(
            NORMALISERS["identity"](child["family_name"], child["given_name"], child["dob"].isoformat())), child
        age = (TODAY - child["dob"]).days / 365.25
        assert 0 <= age < 18, child
        assert child["gender"] in ("Female", "Male", "Not stated")


def test_every_value_fits_its_column_and_the_policy(loaded, policy):
    """Nothing outside the schema: each value is of its column's type and length, and not null unless allowed."""
    engine, _ = loaded
    for model in TABLES:
        table = model.__table__
        for row in rows(engine, model):
            for column, value in zip(table.columns, row):
                if value is None:
                    assert column.nullable, (table.name, column.name)
                    continue
                kind = column.type
                if isinstance(kind, String):
                    assert isinstance(value, str) and (kind.length is None or len(value) <= kind.length), (column, value)
                elif isinstance(kind, DateTime):
                    assert isinstance(value, dt.datetime) and value.date() <= TODAY, (column, value)
                    assert value.tzinfo is None or value.utcoffset() == dt.timedelta(0), (column, value)
                elif isinstance(kind, Date):
                    assert isinstance(value, dt.date), (column, value)
                elif isinstance(kind, (Integer, Boolean)):
                    assert isinstance(value, (int, bool)), (column, value)
    with engine.connect() as connection:
        user_ids = set(connection.scalars(select(User.id)))
        for entry in connection.execute(select(IndexInvolvement.__table__)).mappings():
            category = policy.categories[entry["category"]]
            assert category.recording != 3 and entry["practitioner_id"] is None
            assert entry["contact"][:9] in ("07700 900", "01632 960")
            assert entry["consent"] in (("not_required",) if category.recording == 1 else ("given", "exceptional"))
            assert (len(entry["justification"]) >= 20) == (entry["consent"] == "exceptional")
            assert all(named in policy.categories for named in entry["named_categories"])
            assert not entry["named_categories"] or category.visibility == "C"
            assert entry["recorded_at"] <= entry["reviewed_at"]
        for concern in connection.execute(select(IndexConcern.__table__)).mappings():
            assert concern["raised_by"] in user_ids and concern["level"] in policy.indicators
            involvement = connection.execute(select(IndexInvolvement.child_id, IndexInvolvement.ended_at)
                                             .where(IndexInvolvement.id == concern["involvement_id"])).one()
            assert involvement == (concern["child_id"], None)


def test_same_seed_same_rows_other_seed_other_rows(tmp_path, loaded, policy):
    engine, _ = loaded
    again = fresh(tmp_path / "again")
    generate(again, COUNT, seed=1, batch=333, policy=policy, today=TODAY)  # batch size does not matter
    other = fresh(tmp_path / "other")
    generate(other, COUNT, seed=2, policy=policy, today=TODAY)
    for model in TABLES:
        assert rows(again, model) == rows(engine, model), model.__tablename__
    first, second = rows(engine, IndexChild), rows(other, IndexChild)
    columns = IndexChild.__table__.columns.keys()
    different = sum(a[columns.index("upn"):] != b[columns.index("upn"):] for a, b in zip(first, second))
    assert different > 0.99 * COUNT
    again.dispose()
    other.dispose()


def test_adding_more_keeps_numbers_unique_and_the_database_as_it_was(tmp_path, policy):
    engine = fresh(tmp_path / "twice", users=0)  # no users: no concerns, nothing else missing
    assert generate(engine, 300, seed=5, policy=policy) == 300
    assert generate(engine, 300, seed=5, policy=policy, with_involvements=False) == 300
    with engine.connect() as connection:
        assert connection.scalar(select(func.count(func.distinct(IndexChild.upn)))) == 600
        assert connection.scalar(select(func.count()).select_from(IndexConcern)) == 0
        if connection.dialect.name == "sqlite":
            # The load ran with synchronous=OFF on its own connection; the pool's connections are back to FULL.
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2
    assert generate(engine, 0) == 0
    # The rows were given their ids: the app's own inserts still get new ones (PostgreSQL: sequences moved on).
    session = make_sessionmaker(engine)()
    child = IndexChild(upn="A000000000001", family_name="Okoro", given_name="Tayo",
                       dob=dt.date(2012, 5, 17), gender="Male", address="4 Larch Way, Northtown",
                       postcode="ZZ1 4AB", carer_name="Ada Okoro", carer_contact="07700 900123")
    session.add(child)
    session.flush()
    session.add(IndexInvolvement(child_id=child.id, practitioner_name="P", job_title="J", organisation="O",
                                 contact="07700 900000", category="senco", consent="given"))
    session.commit()
    assert child.id == 601
    session.close()
    engine.dispose()


def test_samples_are_distinct_existing_children_and_repeatable(loaded):
    engine, _ = loaded
    picked = sample_lookups(engine, 50, seed=3)
    assert len(picked) == 50 and len({p["upn"] for p in picked}) == 50
    assert picked == sample_lookups(engine, 50, seed=3) != sample_lookups(engine, 50, seed=4)
    assert set(picked[0]) >= {"upn", "family_name", "given_name", "dob", "postcode"}
    with engine.connect() as connection:
        for p in picked[:10]:
            child = connection.execute(select(IndexChild.__table__).where(
                IndexChild.upn_key == KEYRING.blind_index(NORMALISERS["upn"](p["upn"])))).mappings().one()
            assert (child["family_name"], child["given_name"], child["dob"], child["postcode"]) == (
                p["family_name"], p["given_name"], p["dob"], p["postcode"])
    assert len(sample_lookups(engine, COUNT + 10, seed=1)) == COUNT


def test_the_service_finds_a_sampled_child_by_name_and_by_number(loaded, policy):
    engine, _ = loaded
    session = make_sessionmaker(engine)()
    user = session.scalar(select(User).where(User.index_designation == "user"))
    service = IndexService(session, engine, policy, user)
    reason = dict(reason="new_to_service", reason_text="New to my service: who else is involved?")
    for picked in sample_lookups(engine, 20, seed=11):
        same = session.scalar(select(func.count()).select_from(IndexChild).where(
            blind_match(session, IndexChild.identity_key, picked["family_name"], picked["given_name"], picked["dob"])))
        if same == 1:
            break
    child, grant = service.lookup(LookupRequest(family_name=picked["family_name"], given_name=picked["given_name"],
                                                dob=picked["dob"], **reason))
    assert child is not None and child.upn == picked["upn"] and grant
    child, _ = service.lookup(LookupRequest(upn=picked["upn"].lower(), **reason))
    assert child is not None and child.family_name == picked["family_name"]
    child, _ = service.lookup(LookupRequest(family_name=picked["family_name"], given_name=picked["given_name"],
                                            dob=picked["dob"], postcode=picked["postcode"], **reason))
    assert child is not None and child.upn == picked["upn"]
    session.close()


def test_the_generated_details_are_encrypted_in_the_database(loaded):
    """Bulk loading goes through the column types: no child's or practitioner's details in clear."""
    engine, _ = loaded
    if engine.dialect.name != "sqlite":
        pytest.skip("reads the SQLite file itself")
    from pathlib import Path
    path = Path(engine.url.database)
    stored = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
    # (Only values with a space or of 7 characters or more: shorter ones could turn up by chance in base64.)
    assert b"07700 900" not in stored and b"01632 960" not in stored
    with engine.connect() as connection:
        children = connection.execute(select(IndexChild.__table__).limit(50)).mappings().all()
        entries = connection.execute(select(IndexInvolvement.__table__).limit(50)).mappings().all()
    for child in children:
        for name in ("upn", "address", "carer_name", "postcode", "gp_practice"):
            assert str(child[name]).encode() not in stored, (name, child[name])
        for name in ("family_name", "given_name"):
            assert len(child[name]) < 7 or child[name].encode() not in stored, (name, child[name])
    for entry in entries:
        assert entry["practitioner_name"].encode() not in stored and entry["organisation"].encode() not in stored
