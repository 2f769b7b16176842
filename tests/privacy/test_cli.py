"""`lti-ilp privacy export` and `lti-ilp privacy delete`."""

from __future__ import annotations

import json

import pypdf
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from lti_ilp import cli
from lti_ilp.extensions import db
from lti_ilp.people.models import Person
from lti_ilp.privacy.models import PrivacyLogEntry

from .helpers import fill_plan, foreign_key_violations, person_id


@pytest.fixture
def run_cli(app, monkeypatch):
    monkeypatch.setattr(cli, "_app", lambda: app)
    runner = CliRunner()

    def run(*args, input=None):
        return runner.invoke(cli.main, list(args), input=input, catch_exceptions=False)

    return run


def test_export_json_to_stdout(app, platform, browser, run_cli):
    fill_plan(browser, platform)
    zoe_id = person_id(app, "student-zoe")
    result = run_cli(
        "privacy",
        "export",
        "--person-id",
        str(zoe_id),
        "--format",
        "json",
        "--requested-by",
        "ticket 9",
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["scope"] == "full"
    assert document["records"]["person"][0]["name"] == "Zoë Nguyễn"
    with app.app_context():
        entry = db.session.scalars(select(PrivacyLogEntry)).one()
        assert (entry.action, entry.channel, entry.requested_by) == ("export", "cli", "ticket 9")


def test_export_pdf_to_file(app, platform, browser, run_cli, tmp_path):
    fill_plan(browser, platform)
    zoe_id = person_id(app, "student-zoe")
    target = tmp_path / "zoe.pdf"
    result = run_cli(
        "privacy", "export", "--person-id", str(zoe_id), "--format", "pdf", "--output", str(target)
    )
    assert result.exit_code == 0, result.output
    reader = pypdf.PdfReader(str(target))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Zoë Nguyễn" in text
    assert "Finish unit 3 practice" in text


def test_export_unknown_person(app, run_cli):
    result = run_cli("privacy", "export", "--person-id", "4040")
    assert result.exit_code == 1
    assert "no person with id 4040" in result.output


def test_delete_asks_for_confirmation(app, platform, browser, run_cli):
    fill_plan(browser, platform)
    zoe_id = person_id(app, "student-zoe")
    result = run_cli(
        "privacy", "delete", "--person-id", str(zoe_id), "--requested-by", "ticket 9", input="n\n"
    )
    assert result.exit_code == 1
    assert person_id(app, "student-zoe") == zoe_id


def test_delete_with_yes(app, platform, browser, run_cli):
    fill_plan(browser, platform)
    zoe_id = person_id(app, "student-zoe")
    result = run_cli(
        "privacy",
        "delete",
        "--person-id",
        str(zoe_id),
        "--requested-by",
        "District ticket 4411",
        "--yes",
    )
    assert result.exit_code == 0, result.output
    assert f"deleted person {zoe_id}" in result.output
    with app.app_context():
        assert db.session.get(Person, zoe_id) is None
        entry = db.session.scalars(select(PrivacyLogEntry)).one()
        assert entry.channel == "cli"
        assert entry.requested_by_person_id is None
    assert foreign_key_violations(app) == []


def test_delete_requires_requester(app, platform, browser, run_cli):
    fill_plan(browser, platform)
    zoe_id = person_id(app, "student-zoe")
    result = run_cli(
        "privacy", "delete", "--person-id", str(zoe_id), "--requested-by", " ", "--yes"
    )
    assert result.exit_code == 1
    assert "--requested-by must not be empty" in result.output
    assert person_id(app, "student-zoe") == zoe_id
