"""Templates, cycles and cohorts: defaults, versions, and which template a plan uses."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..lti.roles import CourseRole
from ..people.models import Enrolment, Person
from .defaults import DEFAULT_TEMPLATES, EVENING_HIGH_SCHOOL, TEACHER_PROFESSIONAL_GROWTH
from .models import AUDIENCE_LEARNER, AUDIENCE_STAFF, Cohort, CohortMember, Cycle, PlanTemplate

MAX_PROMPTS = 20
KEY_RE = re.compile(r"[^a-z0-9]+")


class TemplateFormError(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = errors


def ensure_default_templates(deployment_id: int) -> None:
    """Create the shipped templates for a deployment the first time they are needed."""
    existing = set(
        db.session.scalars(
            select(PlanTemplate.key).where(
                PlanTemplate.deployment_id == deployment_id, PlanTemplate.is_default
            )
        )
    )
    for values in DEFAULT_TEMPLATES:
        if values["key"] in existing:
            continue
        try:
            with db.session.begin_nested():
                db.session.add(
                    PlanTemplate(deployment_id=deployment_id, is_default=True, **values)
                )
                db.session.flush()
        except IntegrityError:
            # Another request created the same default template at the same moment.
            continue


def latest_template(deployment_id: int, key: str) -> PlanTemplate | None:
    return db.session.execute(
        select(PlanTemplate).where(
            PlanTemplate.deployment_id == deployment_id,
            PlanTemplate.key == key,
            PlanTemplate.is_latest,
        )
    ).scalar_one_or_none()


def list_templates(deployment_id: int) -> list[PlanTemplate]:
    ensure_default_templates(deployment_id)
    return list(
        db.session.scalars(
            select(PlanTemplate)
            .where(PlanTemplate.deployment_id == deployment_id, PlanTemplate.is_latest)
            .order_by(PlanTemplate.name)
        )
    )


def find_template(deployment_id: int, template_id: int) -> PlanTemplate | None:
    return db.session.execute(
        select(PlanTemplate).where(
            PlanTemplate.id == template_id, PlanTemplate.deployment_id == deployment_id
        )
    ).scalar_one_or_none()


def _slug(text: str) -> str:
    return KEY_RE.sub("-", text.casefold()).strip("-")[:60] or "template"


def _prompt_lines(raw: str, field: str, errors: dict) -> list[dict]:
    """Parse one prompt per line, as ``key: label`` or just a label."""
    prompts = []
    for line in (raw or "").splitlines():
        line = line.strip()
        if not line:
            continue
        key, _, label = line.partition(":")
        if not label:
            key, label = _slug(line).replace("-", "_"), line
        prompts.append({"key": _slug(key).replace("-", "_"), "label": label.strip()[:500]})
    if len(prompts) > MAX_PROMPTS:
        errors[field] = f"Use at most {MAX_PROMPTS} lines."
    keys = [prompt["key"] for prompt in prompts]
    if len(set(keys)) != len(keys):
        errors[field] = "Two lines have the same key; give each line its own key."
    return prompts


def _whole_number(form: Mapping[str, str], name: str, low: int, high: int, errors: dict) -> int:
    try:
        value = int((form.get(name) or "").strip())
    except ValueError:
        errors[name] = f"Enter a whole number from {low} to {high}."
        return low
    if not low <= value <= high:
        errors[name] = f"Enter a whole number from {low} to {high}."
    return value


def template_values(form: Mapping[str, str]) -> dict:
    """Validate the template form and return the column values."""
    errors: dict[str, str] = {}
    name = (form.get("name") or "").strip()
    if not name:
        errors["name"] = "Give the template a name."
    audience = form.get("audience") or AUDIENCE_LEARNER
    if audience not in (AUDIENCE_LEARNER, AUDIENCE_STAFF):
        errors["audience"] = "Choose learners or staff."
    profile_prompts = _prompt_lines(form.get("profile_prompts", ""), "profile_prompts", errors)
    domains = _prompt_lines(form.get("goal_domains", ""), "goal_domains", errors)
    if not domains:
        errors["goal_domains"] = "List at least one goal domain."
    reflections = _prompt_lines(form.get("reflection_prompts", ""), "reflection_prompts", errors)
    for prompt in reflections:
        prompt["stage"] = "mid_year" if prompt["key"].startswith("mid") else "end_of_year"
    for prompt in profile_prompts:
        prompt["hint"] = ""
    values = {
        "name": name[:200],
        "audience": audience,
        "profile_prompts": profile_prompts,
        "goal_domains": domains,
        "reflection_prompts": reflections,
        "goals_required": _whole_number(form, "goals_required", 0, 10, errors),
        "checkin_cadence_days": _whole_number(form, "checkin_cadence_days", 1, 365, errors),
    }
    if errors:
        raise TemplateFormError(errors)
    return values


def create_template(deployment_id: int, actor: Person, form: Mapping[str, str]) -> PlanTemplate:
    values = template_values(form)
    key = _slug(values["name"])
    while latest_template(deployment_id, key) is not None:
        key = f"{key}-2" if not key[-1].isdigit() else key[:-1] + str(int(key[-1]) + 1)
    template = PlanTemplate(
        deployment_id=deployment_id, key=key, version=1, created_by_id=actor.id, **values
    )
    db.session.add(template)
    db.session.flush()
    return template


def new_version(template: PlanTemplate, actor: Person, form: Mapping[str, str]) -> PlanTemplate:
    """Save an edit as the next version; plans and cohorts on older versions keep them."""
    values = template_values(form)
    template.is_latest = False
    newer = PlanTemplate(
        deployment_id=template.deployment_id,
        key=template.key,
        version=template.version + 1,
        is_default=template.is_default,
        created_by_id=actor.id,
        **values,
    )
    db.session.add(newer)
    db.session.flush()
    return newer


def school_year_bounds(today: date) -> tuple[str, date, date]:
    """Return the name, first and last day of the school year that contains ``today``.

    A school year runs from 1 August to 31 July.
    """
    start_year = today.year if today.month >= 8 else today.year - 1
    name = f"{start_year}–{str(start_year + 1)[-2:]}"
    return name, date(start_year, 8, 1), date(start_year + 1, 7, 31)


def current_cycle(deployment_id: int) -> Cycle:
    cycle = db.session.execute(
        select(Cycle).where(Cycle.deployment_id == deployment_id, Cycle.is_current)
    ).scalar_one_or_none()
    if cycle is not None:
        return cycle

    name, starts_on, ends_on = school_year_bounds(date.today())
    cycle = Cycle(
        deployment_id=deployment_id,
        name=name,
        starts_on=starts_on,
        ends_on=ends_on,
        is_current=True,
    )
    try:
        # The first launches of a deployment can arrive together; the unique name decides.
        with db.session.begin_nested():
            db.session.add(cycle)
            db.session.flush()
    except IntegrityError:
        return db.session.execute(
            select(Cycle).where(Cycle.deployment_id == deployment_id, Cycle.is_current)
        ).scalar_one()
    return cycle


def cohort_ids_of(person: Person) -> Select:
    """Build a subquery of the ids of the person's cohorts: those they are an explicit
    member of, and those of courses they take as a learner, in their deployment."""
    explicit = select(CohortMember.cohort_id).where(CohortMember.person_id == person.id)
    learner_courses = select(Enrolment.course_id).where(
        Enrolment.person_id == person.id, Enrolment.course_role == CourseRole.LEARNER.value
    )
    return select(Cohort.id).where(
        Cohort.deployment_id == person.deployment_id,
        Cohort.id.in_(explicit) | Cohort.course_id.in_(learner_courses),
    )


def cohorts_of(person: Person) -> list[Cohort]:
    """Return the person's cohorts, newest first."""
    return list(
        db.session.scalars(
            select(Cohort).where(Cohort.id.in_(cohort_ids_of(person))).order_by(Cohort.id.desc())
        )
    )


def template_for(person: Person) -> PlanTemplate:
    """Pick the template of a new plan: the newest cohort's template, else the default for
    staff (anyone who has launched as an instructor) or for learners."""
    cohorts = cohorts_of(person)
    if cohorts:
        return cohorts[0].template
    is_staff = db.session.scalar(
        select(Enrolment.id)
        .where(
            Enrolment.person_id == person.id,
            Enrolment.course_role == CourseRole.INSTRUCTOR.value,
        )
        .limit(1)
    )
    key = TEACHER_PROFESSIONAL_GROWTH["key"] if is_staff else EVENING_HIGH_SCHOOL["key"]
    template = latest_template(person.deployment_id, key)
    if template is None:
        # The deployment's first plan: create the shipped templates.
        ensure_default_templates(person.deployment_id)
        template = latest_template(person.deployment_id, key)
    return template


def list_cohorts(deployment_id: int) -> list[Cohort]:
    return list(
        db.session.scalars(
            select(Cohort).where(Cohort.deployment_id == deployment_id).order_by(Cohort.name)
        )
    )


def find_cohort(deployment_id: int, cohort_id: int) -> Cohort | None:
    return db.session.execute(
        select(Cohort).where(Cohort.id == cohort_id, Cohort.deployment_id == deployment_id)
    ).scalar_one_or_none()
