"""Which flowcharts and case examples stored work refers to: so that removing one from content/
is noticed by `flask --app guide content check` before the app starts on it.

Walks name their flowchart (a case example's id for self-study), confidentiality walks the case
they compare, live sessions their cases: all in clear, so no keys are needed to read them.
"""

from __future__ import annotations

from collections import Counter


from sqlalchemy import create_engine, select
from sqlalchemy.exc import SQLAlchemyError

from .models import TrainingSession, Walk


def default_database_url() -> str | None:
    """DATABASE_URL, or the first-run SQLite file in the instance folder if it exists."""
    import os

    from .config import PACKAGE_ROOT
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    local = PACKAGE_ROOT.parent / "instance" / "guide.sqlite3"
    return f"sqlite:///{local}" if local.exists() else None


def stored_references(database_url: str) -> Counter:
    """(kind, content id) → how many stored walks or sessions refer to it."""
    engine = create_engine(database_url)
    found: Counter = Counter()
    try:
        with engine.connect() as connection:
            for flowchart_id, case_id in connection.execute(select(Walk.flowchart_id, Walk.case_id)):
                found[("walk", flowchart_id)] += 1
                if case_id:
                    found[("walk", case_id)] += 1
            for (scenario_ids,) in connection.execute(select(TrainingSession.scenario_ids)):
                for case_id in scenario_ids or ():
                    found[("live session", case_id)] += 1
    finally:
        engine.dispose()
    return found


def missing_references(database_url: str, known_ids: set[str]) -> list[str]:
    """Warnings, one a line, for stored work on content that is no longer there."""
    try:
        references = stored_references(database_url)
    except SQLAlchemyError as error:
        return [f"could not read the database to check stored work: {error.__class__.__name__}"]
    return [f"{count} stored {kind}(s) use '{content_id}', which is not in the content: they will show "
            "'This is no longer in the guide'"
            for (kind, content_id), count in sorted(references.items()) if content_id not in known_ids]



