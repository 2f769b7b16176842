"""Reflections and comment threads on plan items."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..extensions import db, utcnow
from ..people.models import Person
from . import audit
from .forms import MAX_LONG_TEXT, PlanFormError, choice, text
from .models import ActionStep, Comment, Evidence, Goal, Plan, Reflection, Visibility

ITEM_MODELS = {"goal": Goal, "evidence": Evidence, "reflection": Reflection}


def reflection_prompts(plan: Plan) -> list[dict]:
    return list(plan.template.reflection_prompts) if plan.template else []


def reflections_by_key(plan: Plan) -> dict[str, Reflection]:
    rows = db.session.scalars(select(Reflection).where(Reflection.plan_id == plan.id))
    return {row.prompt_key: row for row in rows}


def save_reflection(
    plan: Plan, actor: Person, prompt_key: str, form: Mapping[str, str], submit: bool
) -> Reflection:
    prompts = {prompt["key"]: prompt for prompt in reflection_prompts(plan)}
    errors: dict[str, str] = {}
    if prompt_key not in prompts:
        errors["prompt_key"] = "That reflection prompt is not part of this plan."
        raise PlanFormError(errors)
    answer = text(form, "answer", errors, required=submit, limit=MAX_LONG_TEXT)
    if errors:
        raise PlanFormError(errors)
    reflection = reflections_by_key(plan).get(prompt_key)
    if reflection is None:
        reflection = Reflection(
            plan_id=plan.id,
            prompt_key=prompt_key,
            prompt=prompts[prompt_key]["label"],
            answer="",
            author_id=actor.id,
        )
        db.session.add(reflection)
        db.session.flush()
    audit.apply_changes(plan, actor.id, reflection, "reflection", {"answer": answer})
    if submit and reflection.submitted_at is None:
        reflection.submitted_at = utcnow()
        audit.record(plan, actor.id, "reflection", reflection.id, "submitted", None, "yes")
    reflection.updated_at = utcnow()
    audit.activity(plan, actor.id, "reflection")
    return reflection


def _item_exists(plan: Plan, item_type: str, item_id: int | None) -> bool:
    if item_type == "plan":
        return item_id is None
    if item_id is None:
        return False
    if item_type == "step":
        statement = (
            select(ActionStep.id)
            .join(Goal, ActionStep.goal_id == Goal.id)
            .where(ActionStep.id == item_id, Goal.plan_id == plan.id)
        )
        return db.session.scalar(statement) is not None
    if item_type == "checkin":
        from ..checkins.models import CheckIn

        model = CheckIn
    else:
        model = ITEM_MODELS.get(item_type)
    if model is None:
        return False
    return (
        db.session.scalar(select(model.id).where(model.id == item_id, model.plan_id == plan.id))
        is not None
    )


def add_comment(plan: Plan, actor: Person, form: Mapping[str, str], *, is_staff: bool) -> Comment:
    errors: dict[str, str] = {}
    item_type = form.get("item_type", "plan")
    raw_id = form.get("item_id") or ""
    item_id = int(raw_id) if raw_id.isdigit() else None
    if not _item_exists(plan, item_type, item_id):
        errors["item_id"] = "That item is not part of this plan."
    body = text(form, "body", errors, required=True, limit=MAX_LONG_TEXT)
    visibility = Visibility.OWNER_AND_STAFF.value
    if is_staff:
        visibility = choice(
            form,
            "visibility",
            [v.value for v in Visibility],
            errors,
            Visibility.OWNER_AND_STAFF.value,
        )
    if errors:
        raise PlanFormError(errors)
    comment = Comment(
        plan_id=plan.id,
        item_type=item_type,
        item_id=item_id,
        body=body,
        visibility=visibility,
        author_id=actor.id,
    )
    db.session.add(comment)
    db.session.flush()
    audit.record(plan, actor.id, "comment", comment.id, "created", None, body, visibility)
    audit.activity(plan, actor.id, "comment")
    return comment


def comment_threads(plan: Plan, include_staff_only: bool) -> dict[tuple[str, int | None], list]:
    statement = (
        select(Comment)
        .where(Comment.plan_id == plan.id)
        .options(joinedload(Comment.author))
        .order_by(Comment.id)
    )
    if not include_staff_only:
        statement = statement.where(Comment.visibility == Visibility.OWNER_AND_STAFF.value)
    threads: dict[tuple[str, int | None], list] = defaultdict(list)
    for comment in db.session.scalars(statement):
        threads[(comment.item_type, comment.item_id)].append(comment)
    return threads
