"""The audit trail: who did what to which object, when. Rows are only ever added."""

from __future__ import annotations

from sqlalchemy.orm import Session

from .models import AuditEvent


def audit(db: Session, user_id: int | None, action: str, object_type: str, object_id: str, **detail) -> None:
    """Add an audit event to the caller's transaction, so it commits (or not) with the change it records."""
    db.add(AuditEvent(user_id=user_id, action=action, object_type=object_type,
                      object_id=str(object_id), detail=detail))
