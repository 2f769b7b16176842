"""Student and teacher launches in Chromium, from the demo LMS's course page iframe."""

from __future__ import annotations

import re

from lti_ilp.demo.seed import ALGEBRA

TOOL_FRAME = "#ilp-frame"


class LaunchRecorder:
    """Record the status of each launch POST, to show which browser binding worked."""

    def __init__(self, page, tool_url: str) -> None:
        self.statuses: list[int] = []
        self.tool_url = tool_url
        page.on("response", self._record)

    def _record(self, response) -> None:
        request = response.request
        if request.method == "POST" and request.url == f"{self.tool_url}/lti/launch":
            self.statuses.append(response.status)


def open_course(page, demo_site, course_id: str = ALGEBRA) -> None:
    page.goto(f"{demo_site.lms_url}/courses/{course_id}")


def launch_as(page, name: str):
    """Press the course page's launch button for ``name``; return the tool's frame."""
    page.get_by_role("button", name=re.compile(rf"^Open the ILP as {name} ")).first.click()
    return page.frame_locator(TOOL_FRAME)


def tool_frame_url(page) -> str:
    return page.frame(name="ilp-frame").url


def test_student_launch_third_party_cookies_allowed(open_browser, demo_site):
    page = open_browser("allowed")
    recorder = LaunchRecorder(page, demo_site.tool_url)
    open_course(page, demo_site)

    frame = launch_as(page, "Ana Lopez")
    frame.get_by_role("heading", name="My learning plan").wait_for()

    assert "/s/" in tool_frame_url(page)
    assert tool_frame_url(page).startswith(demo_site.tool_url)
    # The state cookie was sent, so the first launch POST was accepted.
    assert recorder.statuses == [303]


def test_student_launch_third_party_cookies_blocked(open_browser, demo_site):
    page = open_browser("blocked")
    recorder = LaunchRecorder(page, demo_site.tool_url)
    open_course(page, demo_site)

    frame = launch_as(page, "Ana Lopez")
    frame.get_by_role("heading", name="My learning plan").wait_for()

    assert "/s/" in tool_frame_url(page)
    # The first POST lacked the cookie and got the storage check page (200). The re-post
    # with the value from the LMS's storage frame was accepted (303).
    assert recorder.statuses == [200, 303]


def test_blocked_cookies_without_client_storage_fail(open_browser, demo_site, storage_switch):
    storage_switch(False)
    page = open_browser("blocked")
    recorder = LaunchRecorder(page, demo_site.tool_url)
    open_course(page, demo_site)

    frame = launch_as(page, "Ana Lopez")
    frame.get_by_role("heading", name="Open your plan in a new window").wait_for()

    assert "/s/" not in tool_frame_url(page)
    assert recorder.statuses == [401]
    link = frame.get_by_role("link", name="Open the plan in a new window")
    assert link.get_attribute("target") == "_blank"


def test_partitioned_cookie_works_without_storage(open_browser, demo_site, storage_switch):
    storage_switch(False)
    page = open_browser("chips")
    recorder = LaunchRecorder(page, demo_site.tool_url)
    open_course(page, demo_site)

    frame = launch_as(page, "Ana Lopez")
    frame.get_by_role("heading", name="My learning plan").wait_for()

    assert "/s/" in tool_frame_url(page)
    assert recorder.statuses == [303]


def test_new_window_fallback_opens_plan(open_browser, demo_site, storage_switch):
    storage_switch(False)
    page = open_browser("blocked")
    open_course(page, demo_site)
    frame = launch_as(page, "Ana Lopez")
    link = frame.get_by_role("link", name="Open the plan in a new window")

    with page.context.expect_page() as new_window:
        link.click()
    plan_page = new_window.value
    plan_page.get_by_role("heading", name="My learning plan").wait_for()

    assert "/s/" in plan_page.url
    assert plan_page.url.startswith(demo_site.tool_url)


def test_student_adds_and_edits_goal(open_browser, demo_site):
    page = open_browser("blocked")
    open_course(page, demo_site)
    frame = launch_as(page, "Ana Lopez")
    frame.get_by_role("heading", name="My learning plan").wait_for()

    new_goal = frame.locator("form[action$='/plan/goals']")
    new_goal.locator("input[name=statement]").fill("Finish the algebra unit 3 review")
    new_goal.get_by_role("button", name="Add goal").click()
    frame.get_by_role("heading", name="Finish the algebra unit 3 review").wait_for()

    frame.locator("summary", has_text="Update this goal").first.click()
    edit_form = (
        frame.locator("form[action*='/plan/goals/']")
        .filter(has=frame.locator("input[name=statement]"))
        .first
    )
    edit_form.locator("input[name=statement]").fill("Finish the unit 3 and 4 reviews")
    edit_form.get_by_role("button", name="Save goal").click()
    frame.get_by_role("heading", name="Finish the unit 3 and 4 reviews").wait_for()

    assert frame.get_by_role("heading", name="Finish the algebra unit 3 review").count() == 0


def test_teacher_deep_links_checkpoint(open_browser, demo_site):
    page = open_browser("blocked")
    page.goto(f"{demo_site.lms_url}/courses/{ALGEBRA}/checkpoints/new")
    page.get_by_label("Teacher").select_option(label="Dana Rivera")
    page.get_by_label("Assignment (graded)").check()
    page.get_by_role("button", name="Choose a checkpoint in the ILP").click()
    frame = page.frame_locator(TOOL_FRAME)

    frame.get_by_role("heading", name="Add a plan checkpoint").wait_for()
    frame.get_by_label("Title in the gradebook").fill("Midterm goal check")
    frame.get_by_label("Points").fill("10")
    frame.get_by_role("button", name="Add checkpoint").click()

    # The tool's return page posts the signed response to the LMS by itself.
    frame.get_by_text("The LMS created:").wait_for()
    created = frame.get_by_role("listitem").filter(has_text="Midterm goal check")
    assert created.count() == 1
    assert "(graded)" in created.inner_text()
    assert tool_frame_url(page).startswith(demo_site.lms_url)
