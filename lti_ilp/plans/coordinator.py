"""Coordinator pages: every plan of the deployment, mentor assignments and grants."""

from __future__ import annotations

from flask import abort, g, redirect, render_template, request, url_for
from sqlalchemy import func, select

from ..extensions import db
from ..people.models import Person
from ..plan_templates.service import current_cycle, list_cohorts
from ..web.guard import session_blueprint
from . import mentors
from .access import viewer_from_session
from .models import CoordinatorGrant, Goal, Plan, PlanStatus
from .service import STATUS_LABELS

bp = session_blueprint("coordinator", __name__, "/coordinator")
PAGE_SIZE = 50


@bp.before_request
def require_coordinator():
    if not viewer_from_session(g.launch_session).is_coordinator:
        abort(
            403,
            description="This page is for coordinators. Ask your LMS administrator "
            "for coordinator rights in the plan tool.",
        )


def _deployment_id() -> int:
    return g.launch_session.person.deployment_id


def _plans_page(deployment_id: int, query: str, status: str, page: int):
    cycle = current_cycle(deployment_id)
    goal_stats = (
        select(
            Goal.plan_id,
            func.count(Goal.id).label("goals"),
            func.avg(Goal.progress).label("average"),
        )
        .group_by(Goal.plan_id)
        .subquery()
    )
    statement = (
        select(Plan, Person, goal_stats.c.goals, goal_stats.c.average)
        .join(Person, Person.id == Plan.person_id)
        .outerjoin(goal_stats, goal_stats.c.plan_id == Plan.id)
        .where(Person.deployment_id == deployment_id, Plan.cycle_id == cycle.id)
    )
    if query:
        statement = statement.where(func.lower(Person.name).contains(query.casefold()))
    if status in STATUS_LABELS:
        statement = statement.where(Plan.status == status)
    total = db.session.scalar(select(func.count()).select_from(statement.subquery()))
    rows = db.session.execute(
        statement.order_by(Person.name, Person.id).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    return cycle, rows, total


@bp.get("")
def home():
    deployment_id = _deployment_id()
    query = request.args.get("q", "").strip()[:100]
    status = request.args.get("status", "")
    page = max(1, request.args.get("page", 1, type=int) or 1)
    cycle, rows, total = _plans_page(deployment_id, query, status, page)
    people = list(
        db.session.scalars(
            select(Person).where(Person.deployment_id == deployment_id).order_by(Person.name)
        )
    )
    grants = list(
        db.session.scalars(
            select(CoordinatorGrant).where(CoordinatorGrant.deployment_id == deployment_id)
        )
    )
    response = render_template(
        "plans/coordinator.html",
        cycle=cycle,
        rows=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        query=query,
        status=status,
        status_labels=STATUS_LABELS,
        cohorts=list_cohorts(deployment_id),
        assignments=mentors.assignments(deployment_id),
        people=people,
        grants=grants,
        in_review=PlanStatus.IN_REVIEW.value,
    )
    db.session.commit()
    return response


def _person(field: str) -> Person:
    raw = request.form.get(field, "")
    person = mentors.find_person(_deployment_id(), int(raw)) if raw.isdigit() else None
    if person is None:
        abort(
            404,
            description="That person has not launched the plan tool in this "
            "deployment. Choose someone from the list.",
        )
    return person


@bp.post("/mentors")
def assign_mentor():
    mentor = _person("mentor_id")
    mentee = _person("mentee_id")
    if mentor.id == mentee.id:
        abort(400, description="A person cannot mentor themselves. Choose two people.")
    mentors.assign_mentor(mentor, mentee, g.launch_session.person)
    db.session.commit()
    return redirect(url_for("coordinator.home") + "#mentors", code=303)


@bp.post("/mentors/<int:assignment_id>/delete")
def unassign_mentor(assignment_id: int):
    if not mentors.unassign_mentor(_deployment_id(), assignment_id):
        abort(404, description="That mentor assignment does not exist.")
    db.session.commit()
    return redirect(url_for("coordinator.home") + "#mentors", code=303)


@bp.post("/grants")
def grant():
    mentors.grant_coordinator(_person("person_id"), g.launch_session.person)
    db.session.commit()
    return redirect(url_for("coordinator.home") + "#grants", code=303)
