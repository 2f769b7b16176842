"""The demo LMS's state: users, courses and memberships, kept in memory.

The demo runs in one process with threaded servers, so every read and write goes through
``LmsStore.lock``. Records are frozen dataclasses: a change replaces the record, and a caller
never sees a half-updated one.

Other parts of the demo LMS (line items and scores, roster changes) keep their own state in
``LmsStore.extension_state(name, factory)``, which creates it once and returns the same
object afterwards. They lock ``LmsStore.lock`` while they change it.
"""

from __future__ import annotations

import threading
import typing as t
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from .platform import ROLE_ADMINISTRATOR, ROLE_INSTRUCTOR, ROLE_LEARNER, ROLE_MENTOR, DemoUser

T = t.TypeVar("T")


class StoreError(KeyError):
    """A user, course or resource link is not in the store."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "not found"


@dataclass(frozen=True)
class User:
    user_id: str
    name: str
    email: str
    given_name: str = ""
    family_name: str = ""
    # Institution roles (LTI role URIs) that go into every launch, whatever the course.
    institution_roles: tuple[str, ...] = ()

    def as_demo_user(self) -> DemoUser:
        return DemoUser(
            user_id=self.user_id,
            name=self.name,
            email=self.email,
            given_name=self.given_name,
            family_name=self.family_name,
        )


@dataclass(frozen=True)
class ResourceLink:
    """A placement of the tool in a course; its id becomes the resource_link claim."""

    link_id: str
    title: str


@dataclass(frozen=True)
class Course:
    course_id: str
    title: str
    label: str
    links: tuple[ResourceLink, ...] = ()

    def find_link(self, link_id: str) -> ResourceLink | None:
        return next((link for link in self.links if link.link_id == link_id), None)


@dataclass(frozen=True)
class Membership:
    course_id: str
    user_id: str
    # Membership (context) role URIs; empty for a user who only has institution roles.
    roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class Member:
    """A user in a course, with the roles a launch from that course sends."""

    user: User
    membership: Membership

    @property
    def launch_roles(self) -> tuple[str, ...]:
        return self.membership.roles + self.user.institution_roles

    @property
    def role_label(self) -> str:
        return role_label(self.launch_roles)


_ROLE_LABELS = (
    (ROLE_INSTRUCTOR, "Teacher"),
    (ROLE_MENTOR, "Mentor"),
    (ROLE_LEARNER, "Student"),
    (ROLE_ADMINISTRATOR, "Administrator"),
)


def role_label(roles: t.Iterable[str]) -> str:
    """Return a short English name for the most senior of ``roles``, for page text."""
    present = set(roles)
    for uri, label in _ROLE_LABELS:
        if uri in present:
            return label
    return "No role"


@dataclass
class LmsStore:
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _users: dict[str, User] = field(default_factory=dict)
    _courses: dict[str, Course] = field(default_factory=dict)
    # (course_id, user_id) -> membership; insertion order is the roster order.
    _memberships: dict[tuple[str, str], Membership] = field(default_factory=dict)
    # mentor user_id -> user_ids of the people they mentor (the role_scope_mentor claim)
    _mentees: dict[str, tuple[str, ...]] = field(default_factory=dict)
    _extensions: dict[str, object] = field(default_factory=dict)

    def add_user(self, user: User) -> User:
        """Add a user, or replace the stored user with the same user_id."""
        with self.lock:
            self._users[user.user_id] = user
        return user

    def add_course(self, course: Course) -> Course:
        """Add a course, or replace the stored course with the same course_id."""
        with self.lock:
            self._courses[course.course_id] = course
        return course

    def enrol(self, course_id: str, user_id: str, roles: t.Iterable[str]) -> Membership:
        """Add a user to a course with the given membership roles, replacing earlier roles."""
        with self.lock:
            self.get_course(course_id)
            self.get_user(user_id)
            membership = Membership(course_id, user_id, tuple(roles))
            self._memberships[(course_id, user_id)] = membership
        return membership

    def unenrol(self, course_id: str, user_id: str) -> bool:
        """Remove a user from a course; return False when they were not a member."""
        with self.lock:
            return self._memberships.pop((course_id, user_id), None) is not None

    def set_mentees(self, mentor_id: str, mentee_ids: t.Iterable[str]) -> None:
        """Replace the list of users that ``mentor_id`` mentors."""
        with self.lock:
            self.get_user(mentor_id)
            mentees = tuple(mentee_ids)
            for mentee_id in mentees:
                self.get_user(mentee_id)
            self._mentees[mentor_id] = mentees

    def mentees_of(self, mentor_id: str) -> tuple[str, ...]:
        with self.lock:
            return self._mentees.get(mentor_id, ())

    def get_user(self, user_id: str) -> User:
        with self.lock:
            user = self._users.get(user_id)
        if user is None:
            raise StoreError(f"no user with id {user_id!r}")
        return user

    def get_course(self, course_id: str) -> Course:
        with self.lock:
            course = self._courses.get(course_id)
        if course is None:
            raise StoreError(f"no course with id {course_id!r}")
        return course

    def find_course(self, course_id: str) -> Course | None:
        with self.lock:
            return self._courses.get(course_id)

    def users(self) -> list[User]:
        with self.lock:
            return list(self._users.values())

    def courses(self) -> list[Course]:
        with self.lock:
            return list(self._courses.values())

    def members(self, course_id: str) -> list[Member]:
        """Return the course's members in roster order."""
        with self.lock:
            return [
                Member(self._users[membership.user_id], membership)
                for (member_course, _), membership in self._memberships.items()
                if member_course == course_id
            ]

    def find_member(self, course_id: str, user_id: str) -> Member | None:
        with self.lock:
            membership = self._memberships.get((course_id, user_id))
            if membership is None:
                return None
            return Member(self._users[user_id], membership)

    def courses_of(self, user_id: str) -> list[Course]:
        with self.lock:
            return [
                self._courses[course_id]
                for (course_id, member_id) in self._memberships
                if member_id == user_id
            ]

    def extension_state(self, name: str, factory: t.Callable[[], T]) -> T:
        """Return the state object that extension ``name`` keeps here, creating it once."""
        with self.lock:
            if name not in self._extensions:
                self._extensions[name] = factory()
            return t.cast(T, self._extensions[name])

    def user_directory(self) -> UserDirectory:
        """Return a read-only, live view of the users, as ``DemoPlatform`` expects them."""
        return UserDirectory(self)


class UserDirectory(Mapping[str, DemoUser]):
    """The store's users as ``DemoUser`` records; users added later appear here too."""

    def __init__(self, store: LmsStore) -> None:
        self._store = store

    def __getitem__(self, user_id: str) -> DemoUser:
        try:
            return self._store.get_user(user_id).as_demo_user()
        except StoreError:
            raise KeyError(user_id) from None

    def __iter__(self) -> Iterator[str]:
        return iter([user.user_id for user in self._store.users()])

    def __len__(self) -> int:
        return len(self._store.users())
