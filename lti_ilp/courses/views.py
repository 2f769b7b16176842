"""Course staff pages."""

from __future__ import annotations

from flask import abort, g, redirect, render_template, url_for

from ..extensions import db
from ..lti.roles import CourseRole
from ..plans.service import STATUS_LABELS, load_plan
from ..web.guard import require_course_role, session_blueprint
from .service import course_learners, learner_in_course

bp = session_blueprint("courses", __name__, "/course")
STAFF = (CourseRole.INSTRUCTOR.value,)


def _course_or_400():
    course = g.launch_session.course
    if course is None:
        abort(
            400,
            description="This launch did not come from a course, so there is no class "
            "list to show. Open the plan tool from a course.",
        )
    return course


@bp.get("")
@require_course_role(*STAFF)
def learners():
    course = _course_or_400()
    rows = course_learners(course.id, course.deployment_id)
    db.session.commit()
    return render_template(
        "courses/learners.html", course=course, learners=rows, status_labels=STATUS_LABELS
    )


@bp.get("/learners/<int:person_id>")
@require_course_role(*STAFF)
def learner_plan(person_id: int):
    course = _course_or_400()
    person = learner_in_course(course.id, person_id)
    if person is None:
        abort(404, description="That learner is not in this course.")
    plan = load_plan(person.id)
    if plan is None:
        abort(404, description="This learner has not opened their plan this school year.")
    return redirect(url_for("plans.view", plan_id=plan.id), code=303)
