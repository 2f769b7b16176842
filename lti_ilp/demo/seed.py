"""Demo data: two evening courses, their students, a teacher, a mentor and a coordinator.

User and course ids never change between runs, because the tool keys a person's plan to
the ``sub`` claim (the user id) and keeps plans in its database across restarts.
"""

from __future__ import annotations

from .platform import (
    ROLE_ADMINISTRATOR,
    ROLE_INSTITUTION_STUDENT,
    ROLE_INSTRUCTOR,
    ROLE_LEARNER,
    ROLE_MENTOR,
)
from .store import Course, LmsStore, ResourceLink, User

ALGEBRA = "algebra-1-evening"
ENGLISH = "english-10-evening"
CAREERS = "career-pathways-evening"
# The district's professional-development course, where teachers keep growth plans.
PD_COURSE = "teacher-growth"
PD_TEACHER_COUNT = 70
# Extra students of the 30-student Career Pathways course: (given name, family name).
CAREERS_EXTRA_STUDENTS = (
    ("Gabe", "Ito"),
    ("Hana", "Kowalski"),
    ("Ivan", "Petrov"),
    ("Jada", "Brooks"),
    ("Kofi", "Mensah"),
    ("Lena", "Fischer"),
    ("Malik", "Reed"),
    ("Nora", "Lindqvist"),
    ("Omar", "Aziz"),
    ("Paula", "Costa"),
    ("Quentin", "Moreau"),
    ("Rina", "Sato"),
    ("Sofia", "Rossi"),
    ("Tomas", "Novak"),
    ("Uma", "Patel"),
    ("Victor", "Mendes"),
    ("Wen", "Zhao"),
    ("Ximena", "Ruiz"),
    ("Yusuf", "Demir"),
    ("Zara", "Ahmed"),
    ("Abel", "Tesfaye"),
    ("Bianca", "Ionescu"),
    ("Cyrus", "Farahani"),
    ("Delia", "Walsh"),
)

TEACHER = "teacher-rivera"
MENTOR = "mentor-kim"
COORDINATOR = "coordinator-morgan"

# (user id, given name, family name, course ids)
STUDENTS = (
    ("student-ana", "Ana", "Lopez", (ALGEBRA, ENGLISH)),
    ("student-ben", "Ben", "Okafor", (ALGEBRA,)),
    ("student-chloe", "Chloe", "Nguyen", (ALGEBRA, ENGLISH)),
    ("student-diego", "Diego", "Martinez", (ENGLISH,)),
    ("student-emma", "Emma", "Schultz", (ALGEBRA,)),
    ("student-farah", "Farah", "Haddad", (ALGEBRA, ENGLISH)),
)


# The students the mentor is assigned to; the mentor's launches list them.
MENTEES = ("student-ana", "student-chloe", "student-diego")


def ilp_link_id(course_id: str) -> str:
    """Return the resource link id of the ILP placement in ``course_id``."""
    return f"ilp-{course_id}"


def _person(user_id: str, given: str, family: str, roles: tuple[str, ...] = ()) -> User:
    return User(
        user_id=user_id,
        name=f"{given} {family}",
        email=f"{given.lower()}.{family.lower()}@example.edu",
        given_name=given,
        family_name=family,
        institution_roles=roles,
    )


def _course(course_id: str, title: str, label: str) -> Course:
    link = ResourceLink(ilp_link_id(course_id), "Individualized Learning Plan")
    return Course(course_id=course_id, title=title, label=label, links=(link,))


def seed_store(store: LmsStore | None = None) -> LmsStore:
    """Fill ``store`` (a new one by default) with the demo courses and people."""
    store = store or LmsStore()
    store.add_course(_course(ALGEBRA, "Algebra I (evening)", "ALG1-E"))
    store.add_course(_course(ENGLISH, "English 10 (evening)", "ENG10-E"))

    store.add_user(_person(TEACHER, "Dana", "Rivera"))
    for course_id in (ALGEBRA, ENGLISH):
        store.enrol(course_id, TEACHER, [ROLE_INSTRUCTOR])

    for user_id, given, family, course_ids in STUDENTS:
        store.add_user(_person(user_id, given, family, (ROLE_INSTITUTION_STUDENT,)))
        for course_id in course_ids:
            store.enrol(course_id, user_id, [ROLE_LEARNER])

    store.add_user(_person(MENTOR, "Sam", "Kim"))
    for course_id in (ALGEBRA, ENGLISH):
        store.enrol(course_id, MENTOR, [ROLE_MENTOR])
    store.set_mentees(MENTOR, MENTEES)

    _seed_careers(store)
    _seed_professional_development(store)

    # The district coordinator has no role in the courses: like an LMS administrator who
    # opens a course, their launches carry only the institution Administrator role.
    store.add_user(_person(COORDINATOR, "Pat", "Morgan", (ROLE_ADMINISTRATOR,)))
    for course_id in (ALGEBRA, ENGLISH, CAREERS):
        store.enrol(course_id, COORDINATOR, [])
    # In the PD course the coordinator leads, so their launch does not make them a member
    # of the cohort they run.
    store.enrol(PD_COURSE, COORDINATOR, [ROLE_INSTRUCTOR])
    return store


def _seed_careers(store: LmsStore) -> None:
    """A 30-student course: the six demo students plus 24 more who have not launched yet."""
    store.add_course(_course(CAREERS, "Career Pathways (evening)", "CAREER-E"))
    store.enrol(CAREERS, TEACHER, [ROLE_INSTRUCTOR])
    for user_id, *_ in STUDENTS:
        store.enrol(CAREERS, user_id, [ROLE_LEARNER])
    for number, (given, family) in enumerate(CAREERS_EXTRA_STUDENTS, start=1):
        user_id = f"student-cp-{number:02d}"
        store.add_user(_person(user_id, given, family, (ROLE_INSTITUTION_STUDENT,)))
        store.enrol(CAREERS, user_id, [ROLE_LEARNER])


def _seed_professional_development(store: LmsStore) -> None:
    """The PD course: the teacher and the seeded cohort of teachers take part as learners."""
    from ..growth.seed import pd_teacher_identity

    store.add_course(_course(PD_COURSE, "Teacher professional growth", "PD"))
    store.enrol(PD_COURSE, TEACHER, [ROLE_LEARNER])
    for index in range(1, PD_TEACHER_COUNT + 1):
        user_id, given, family = pd_teacher_identity(index)
        store.add_user(_person(user_id, given, family))
        store.enrol(PD_COURSE, user_id, [ROLE_LEARNER])
