"""The triage dashboard pages: the table, its CSV export and its bulk actions."""

from __future__ import annotations

import logging
from datetime import date

from flask import Response, abort, g, redirect, render_template, request, url_for
from sqlalchemy import select

from ..extensions import db
from ..lti.roles import CourseRole
from ..lti.routing import LandingRule, register_landing
from ..nudges import clock
from ..nudges.service import send_manual_nudges
from ..plans.access import is_coordinator
from ..plans.models import MentorAssignment
from ..rosters.service import STATUS_NOT_GRANTED, request_sync, roster_status
from ..web.guard import session_blueprint
from . import service
from .service import FILTERS, PAGE_SIZE, SCOPE_LABELS, SORTS, Scope

log = logging.getLogger(__name__)

bp = session_blueprint("dashboard", __name__, "/dashboard")

MAX_SELECTED = 2000
NOTICES = {
    "nudged": "Nudges sent: {count}. People already nudged today were skipped.",
    "scheduled": "Check-ins scheduled: {count}. People without a plan were skipped.",
    "sync_requested": "A roster sync is queued; the list updates within a few minutes.",
}


def _available_scopes() -> dict[str, Scope]:
    session = g.launch_session
    deployment_id = session.deployment_id
    scopes: dict[str, Scope] = {}
    if session.course is not None and session.course_role == CourseRole.INSTRUCTOR.value:
        scopes[service.SCOPE_COURSE] = Scope(
            service.SCOPE_COURSE, deployment_id, course_id=session.course_id
        )
    has_mentees = (
        db.session.scalar(
            select(MentorAssignment.id)
            .where(MentorAssignment.mentor_id == session.person_id)
            .limit(1)
        )
        is not None
    )
    if has_mentees or session.course_role == CourseRole.MENTOR.value:
        scopes[service.SCOPE_CASELOAD] = Scope(
            service.SCOPE_CASELOAD, deployment_id, mentor_id=session.person_id
        )
    if is_coordinator(session.person, session.is_platform_administrator):
        scopes[service.SCOPE_STAFF] = Scope(service.SCOPE_STAFF, deployment_id)
    return scopes


def _scope_or_403(values) -> Scope:
    scopes = _available_scopes()
    g.dashboard_scopes = scopes
    if not scopes:
        abort(
            403,
            description="The triage dashboard is for teachers, mentors and "
            "coordinators. Open the plan tool from a course you teach.",
        )
    requested = values.get("scope") or next(iter(scopes))
    if requested not in scopes:
        abort(
            403,
            description=f"You cannot see the {requested!r} dashboard. Choose one of: "
            f"{', '.join(SCOPE_LABELS[key] for key in scopes)}.",
        )
    return scopes[requested]


def _choice(value: str | None, allowed: dict, default: str) -> str:
    return value if value in allowed else default


def _page_number(value: str | None) -> int:
    return int(value) if value and value.isdigit() and 0 < int(value) < 100000 else 1


def _filtered_rows(scope: Scope, now):
    filter_key = _choice(request.args.get("filter"), FILTERS, "all")
    sort_key = _choice(request.args.get("sort"), SORTS, "staleness")
    query = (request.args.get("q") or "")[:100]
    rows = service.build_rows(scope, now)
    matching_rows = service.sort_rows(service.filter_rows(rows, filter_key, query), sort_key)
    return rows, matching_rows, filter_key, sort_key, query


@bp.get("")
def show():
    scope = _scope_or_403(request.args)
    now = clock.now()
    rows, matching_rows, filter_key, sort_key, query = _filtered_rows(scope, now)
    page = _page_number(request.args.get("page"))
    page_count = max(1, (len(matching_rows) + PAGE_SIZE - 1) // PAGE_SIZE)
    page = min(page, page_count)
    notice = NOTICES.get(request.args.get("notice", ""), "")
    count = request.args.get("count", "0")
    notice = notice.format(count=count if count.isdigit() and len(count) < 7 else "0")
    roster = roster_status(scope.course_id) if scope.course_id else None
    return render_template(
        "dashboard/dashboard.html",
        scope=scope,
        scopes={key: SCOPE_LABELS[key] for key in g.dashboard_scopes},
        rows=matching_rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
        total=len(rows),
        matching=len(matching_rows),
        not_started=sum(1 for row in rows if row.not_started),
        page=page,
        page_count=page_count,
        filters=FILTERS,
        sorts=SORTS,
        filter_key=filter_key,
        sort_key=sort_key,
        query=query,
        roster=roster,
        roster_not_granted=roster is not None and roster.last_status == STATUS_NOT_GRANTED,
        notice=notice,
        today=now.date(),
        quiet_after=service.QUIET_AFTER_DAYS,
    )


@bp.get("/export.csv")
def export_csv():
    scope = _scope_or_403(request.args)
    _, matching_rows, *_ = _filtered_rows(scope, clock.now())
    log.info(
        "dashboard exported person=%s scope=%s rows=%s",
        g.launch_session.person_id,
        scope.kind,
        len(matching_rows),
    )
    return Response(
        service.to_csv(matching_rows),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="ilp-{scope.kind}.csv"',
            "Cache-Control": "no-store",
        },
    )


def _selected_people(scope: Scope) -> list[int]:
    raw = request.form.getlist("person_id")
    if not raw:
        abort(400, description="Select at least one person in the table, then choose an action.")
    if len(raw) > MAX_SELECTED or not all(value.isdigit() for value in raw):
        abort(
            400,
            description="The selection is invalid. Reload the dashboard and select people again.",
        )
    selected = {int(value) for value in raw}
    allowed = service.people_in_scope(scope)
    if not selected <= allowed:
        abort(
            403,
            description="Some selected people are not in this dashboard. Reload it "
            "and select again.",
        )
    return sorted(selected)


def _back(scope: Scope, notice: str, count: int):
    values = {
        key: request.form.get(key) for key in ("filter", "sort", "q") if request.form.get(key)
    }
    return redirect(
        url_for("dashboard.show", scope=scope.kind, notice=notice, count=str(count), **values),
        code=303,
    )


@bp.post("/actions")
def bulk_action():
    scope = _scope_or_403(request.form)
    action = request.form.get("action")
    if action not in ("nudge", "schedule_checkin"):
        abort(
            400, description="Choose an action: nudge the selected people or schedule check-ins."
        )
    selected = _selected_people(scope)
    plans = service.plan_ids_by_person(scope, set(selected))
    now = clock.now()

    if action == "nudge":
        sent = send_manual_nudges(g.launch_session.person, selected, plans, now)
        db.session.commit()
        return _back(scope, "nudged", len(sent))

    due_on = _due_date(request.form.get("due_on"), now.date())
    plan_ids = [plan_id for plan_id in plans.values() if plan_id is not None]
    added = service.schedule_checkins(plan_ids, due_on, g.launch_session.person_id)
    db.session.commit()
    return _back(scope, "scheduled", added)


def _due_date(value: str | None, today: date) -> date:
    try:
        due_on = date.fromisoformat((value or "").strip())
    except ValueError:
        abort(400, description="Enter the check-in date as YYYY-MM-DD.")
    if due_on < today:
        abort(400, description="Choose a check-in date that is today or later.")
    return due_on


@bp.post("/roster-sync")
def roster_sync():
    scope = _scope_or_403(request.form)
    if scope.course_id is None:
        abort(400, description="Rosters are synced per course. Open the dashboard from a course.")
    session = g.launch_session
    request_sync(session.course, session.services or {}, session.resource_link_id, clock.now())
    db.session.commit()
    return _back(scope, "sync_requested", 0)


def register_dashboard_landing() -> None:
    """Send course instructors to the triage dashboard of the course they launched from."""
    register_landing(
        LandingRule(
            name="dashboard-instructor",
            matches=lambda launch: (
                not launch.is_deep_linking
                and launch.context is not None
                and launch.course_role is CourseRole.INSTRUCTOR
            ),
            target=lambda launch: ("dashboard.show", {}),
        )
    )
