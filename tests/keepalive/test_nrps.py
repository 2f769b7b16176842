"""Reading rosters over NRPS from a local server that pages like real platforms."""

from __future__ import annotations

import pytest
import requests
from flask import Flask, jsonify, request

from lti_ilp.lti.nrps import NrpsError, fetch_roster, next_page_url

from ..harness import ServerThread

TOKEN = "test-access-token"


class RosterServer:
    """Serves ``count`` members in pages; switches mimic Canvas, Schoology and others."""

    def __init__(self) -> None:
        self.count = 120
        self.page_size = 50
        self.reject_rlid = False
        self.header_name = "Link"
        self.loop = False
        self.requests: list[str] = []
        app = Flask("roster-server")

        @app.get("/API/Courses/<course>/Memberships")
        def memberships(course):
            self.requests.append(request.full_path)
            if request.headers.get("Authorization") != f"Bearer {TOKEN}":
                return jsonify(error="unauthorized"), 401
            if self.reject_rlid and "rlid" in request.args:
                return jsonify(error="rlid is not supported"), 400
            page = int(request.args.get("Page", "1"))
            start = (page - 1) * self.page_size
            members = [
                {"user_id": f"User-{index:03d}", "roles": ["Learner"], "name": f"Learner {index}"}
                for index in range(start, min(start + self.page_size, self.count))
            ]
            response = jsonify({"id": request.url, "members": members})
            if self.loop:
                response.headers[self.header_name] = f'<{request.base_url}?Page=1>; rel="next"'
            elif start + self.page_size < self.count:
                query = f"Page={page + 1}"
                if "rlid" in request.args:
                    query += f"&rlid={request.args['rlid']}"
                response.headers[self.header_name] = (
                    f'<{request.base_url}?{query}>; rel="next", '
                    f'<{request.base_url}?Page=1>; rel="first"'
                )
            return response

        self.server = ServerThread(app)
        self.url = f"{self.server.url}/API/Courses/Course-A/Memberships"


@pytest.fixture(scope="module")
def roster_server():
    server = RosterServer()
    yield server
    server.server.stop()


@pytest.fixture(autouse=True)
def reset_server(roster_server):
    roster_server.count = 120
    roster_server.page_size = 50
    roster_server.reject_rlid = False
    roster_server.header_name = "Link"
    roster_server.loop = False
    roster_server.requests.clear()


@pytest.mark.parametrize("page_size", [50, 100])
def test_roster_follows_every_page(roster_server, page_size):
    roster_server.page_size = page_size
    roster = fetch_roster(requests.Session(), TOKEN, roster_server.url)
    assert len(roster.members) == 120
    assert roster.pages == -(-120 // page_size)
    assert {member.user_id for member in roster.members} == {
        f"User-{index:03d}" for index in range(120)
    }


def test_roster_lower_case_link_header(roster_server):
    roster_server.header_name = "link"
    roster = fetch_roster(requests.Session(), TOKEN, roster_server.url)
    assert len(roster.members) == 120
    assert roster.pages == 3


def test_next_url_keeps_its_case(roster_server):
    fetch_roster(requests.Session(), TOKEN, roster_server.url)
    assert roster_server.requests[1].startswith("/API/Courses/Course-A/Memberships?Page=2")


def test_rlid_sent_when_accepted(roster_server):
    roster = fetch_roster(requests.Session(), TOKEN, roster_server.url, rlid="Link-1")
    assert roster.used_rlid
    assert not roster.rlid_rejected
    assert "rlid=Link-1" in roster_server.requests[0]
    assert len(roster.members) == 120


def test_rlid_rejected_falls_back_to_course(roster_server):
    roster_server.reject_rlid = True
    roster = fetch_roster(requests.Session(), TOKEN, roster_server.url, rlid="Link-1")
    assert roster.rlid_rejected
    assert not roster.used_rlid
    assert len(roster.members) == 120
    assert "rlid" in roster_server.requests[0]
    assert all("rlid" not in path for path in roster_server.requests[1:])


def test_unauthorized_is_an_error(roster_server):
    with pytest.raises(NrpsError) as error:
        fetch_roster(requests.Session(), "wrong-token", roster_server.url)
    assert error.value.status_code == 401


def test_link_loop_is_an_error(roster_server):
    roster_server.loop = True
    with pytest.raises(NrpsError) as error:
        fetch_roster(requests.Session(), TOKEN, roster_server.url)
    assert "links back" in error.value.message


def test_next_page_url_ignores_other_relations():
    response = requests.Response()
    response.url = "https://lms.example/api/members?page=1"
    response.headers["LINK"] = (
        '</api/members?page=1>; rel="first", </api/Members?page=2>; rel="NEXT"'
    )
    assert next_page_url(response) == "https://lms.example/api/Members?page=2"


def test_next_page_url_absent():
    response = requests.Response()
    response.url = "https://lms.example/api/members"
    response.headers["Link"] = '<https://lms.example/api/members?page=1>; rel="first"'
    assert next_page_url(response) is None
