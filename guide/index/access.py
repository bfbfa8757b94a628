"""Who sees what on a child's record (IDX §3.10–3.13), decided by the policy data alone."""

from __future__ import annotations

from ..models import IndexInvolvement, User
from .policy import IndexPolicy


LOOK_UP_DESIGNATIONS = ("user", "cp_social_worker")


def can_use_index(user: User | None) -> bool:
    """Designated users only (IDX §2.27); the index manager always."""
    return user is not None and (user.role == "index_manager" or user.index_designation in LOOK_UP_DESIGNATIONS)


def can_answer_subject_access(user: User | None) -> bool:
    """Subject access reports (IDX §2.33): the index manager, or someone the index manager designated for them."""
    return user is not None and (user.role == "index_manager" or user.index_designation == "subject_access")


def can_grant_lead(user: User) -> bool:
    """Who may make a practitioner the lead professional: the index manager or a child protection social worker."""
    return user.role == "index_manager" or user.index_designation == "cp_social_worker"


def is_lead(involvement: IndexInvolvement) -> bool:
    """Lead professional as granted by someone entitled; the practitioner's own tick is only a claim."""
    return bool(involvement.lead_professional and involvement.lead_granted_at is not None and involvement.ended_at is None)


def is_essential(user: User, involvements: list[IndexInvolvement]) -> bool:
    """Lead professional for this child (granted, not claimed), a child protection social worker, or the index manager."""
    if can_grant_lead(user):
        return True
    return any(i.practitioner_id == user.id and is_lead(i) for i in involvements)


def can_see(policy: IndexPolicy, user: User, involvement: IndexInvolvement, essential: bool) -> bool:
    if involvement.practitioner_id == user.id:
        return True  # practitioners always see their own entry
    category = policy.categories.get(involvement.category)
    if category is None:
        return essential  # a category the policy no longer knows: the strictest rule
    if category.visibility == "A":
        return True
    if category.visibility == "B":
        return essential
    return essential or (bool(user.service_category) and user.service_category in (involvement.named_categories or []))


def visible_involvements(policy: IndexPolicy, user: User, involvements: list[IndexInvolvement]) -> tuple[list, int]:
    """The current involvements this user may see, and how many are hidden from them."""
    current = [i for i in involvements if i.ended_at is None]
    essential = is_essential(user, current)
    shown = [i for i in current if can_see(policy, user, i, essential)]
    return shown, len(current) - len(shown)
