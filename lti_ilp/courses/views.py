"""Course staff pages."""

from __future__ import annotations

from flask import abort, g, render_template

from ..lti.roles import CourseRole
from ..plans.service import load_plan
from ..web.guard import require_course_role, session_blueprint
from .service import course_learners, learner_in_course

bp = session_blueprint("courses", __name__, "/course")
STAFF = (CourseRole.INSTRUCTOR.value,)


def _course_or_400():
    course = g.launch_session.course
    if course is None:
        abort(400, description="This launch did not come from a course, so there is no class "
              "list to show. Open the plan tool from a course.")
    return course


@bp.get("")
@require_course_role(*STAFF)
def learners():
    course = _course_or_400()
    return render_template("courses/learners.html", course=course,
                           learners=course_learners(course.id))


@bp.get("/learners/<int:person_id>")
@require_course_role(*STAFF)
def learner_plan(person_id: int):
    course = _course_or_400()
    person = learner_in_course(course.id, person_id)
    if person is None:
        abort(404, description="That learner is not in this course.")
    return render_template("plans/plan.html", plan=load_plan(person.id), person=person,
                           errors={}, form={}, editable=False, course=course)
