"""What the plan page shows to one viewer: items filtered by visibility, with threads,
history and check-ins.

Each section of the page comes from one SQL statement, except the goals, which take one
more for all their steps and one for all their progress entries. No statement runs per
goal, step, evidence item or comment, so the cost does not grow with the plan.
tests/scale/test_plan_page_queries.py counts the statements.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from ..extensions import db
from ..people.models import Person
from . import discussion, evidence, service
from .access import Relation, permissions
from .models import AuditEntry, Goal, Plan, ProgressEntry, StatusChange, Visibility

AUDIT_ROWS_SHOWN = 200


def _visible(items, include_staff_only: bool) -> list:
    if include_staff_only:
        return list(items)
    return [item for item in items if item.visibility == Visibility.OWNER_AND_STAFF.value]


def load_plan_tree(plan: Plan) -> None:
    """Load the plan's template, signer and goals in one statement, then every goal's
    steps and progress entries (with their authors) in one statement each."""
    db.session.execute(
        select(Plan)
        .where(Plan.id == plan.id)
        .options(
            joinedload(Plan.template),
            joinedload(Plan.signed_by),
            joinedload(Plan.goals).options(
                selectinload(Goal.steps),
                selectinload(Goal.progress_entries).joinedload(ProgressEntry.author),
            ),
        )
    ).unique().scalar_one()


def history(plan: Plan, include_staff_only: bool) -> list[AuditEntry]:
    statement = (
        select(AuditEntry)
        .where(AuditEntry.plan_id == plan.id)
        .options(joinedload(AuditEntry.actor))
        .order_by(AuditEntry.id.desc())
        .limit(AUDIT_ROWS_SHOWN)
    )
    if not include_staff_only:
        statement = statement.where(AuditEntry.visibility == Visibility.OWNER_AND_STAFF.value)
    return list(db.session.scalars(statement))


def status_history(plan: Plan) -> list[StatusChange]:
    return list(
        db.session.scalars(
            select(StatusChange)
            .where(StatusChange.plan_id == plan.id)
            .options(joinedload(StatusChange.actor))
            .order_by(StatusChange.id)
        )
    )


def other_plans(plan: Plan) -> list[Plan]:
    """Return the owner's plans of other cycles, newest first, with their cycles loaded."""
    return list(
        db.session.scalars(
            select(Plan)
            .where(Plan.person_id == plan.person_id, Plan.id != plan.id)
            .options(joinedload(Plan.cycle))
            .order_by(Plan.id.desc())
        )
    )


def plan_context(plan: Plan, relation: Relation, viewer: Person) -> dict:
    from ..checkins.service import checkins_of
    from ..growth.service import goal_resources, library_for

    perms = permissions(plan, relation)
    staff = perms.view_staff_items
    load_plan_tree(plan)
    goals = _visible(plan.goals, staff)
    steps = {goal.id: _visible(goal.steps, staff) for goal in goals}
    evidence_items = _visible(evidence.list_evidence(plan), staff)
    evidence_by_goal: dict[int, list] = {}
    for item in evidence_items:
        for goal in item.goals:
            evidence_by_goal.setdefault(goal.id, []).append(item)
    return {
        "plan": plan,
        "person": plan.person,
        "viewer": viewer,
        "relation": relation,
        "perms": perms,
        "editable": perms.edit,
        "template": plan.template,
        "goals": goals,
        "steps": steps,
        "evidence_items": evidence_items,
        "evidence_by_goal": evidence_by_goal,
        "reflection_prompts": discussion.reflection_prompts(plan),
        "reflections": {
            key: row
            for key, row in discussion.reflections_by_key(plan).items()
            if staff or row.visibility == Visibility.OWNER_AND_STAFF.value
        },
        "threads": discussion.comment_threads(plan, staff),
        "status_history": status_history(plan),
        "history": history(plan, staff),
        "allowed_statuses": service.allowed_statuses(plan, relation),
        "status_labels": service.STATUS_LABELS,
        "checkins": checkins_of(plan),
        "goal_resources": goal_resources(plan),
        "library": library_for(plan.person) if perms.edit else [],
        "other_plans": other_plans(plan),
        "evidence_types": evidence.ALLOWED_LIST,
        "max_upload_mb": evidence.MAX_UPLOAD_BYTES // (1024 * 1024),
    }
