"""The PDF export renders any name: DejaVu Sans when present, else transliterated Latin-1."""

from __future__ import annotations

import io

import pypdf

from lti_ilp.privacy import pdf


def _document(name: str) -> dict:
    return {
        "person_id": 7,
        "generated_at": "2026-12-04T10:00:00+00:00",
        "deployment": {"issuer": "https://lms.example", "client_id": "c1", "deployment_id": "d1"},
        "notes": ["A note."],
        "records": {
            "person": [{"id": 7, "name": name, "email": None}],
            "evidence": [
                {
                    "id": 1,
                    "filename": "poster.pdf",
                    "data": {"encoding": "base64", "size": 3, "sha256": "ab" * 32, "data": "AAAA"},
                }
            ],
        },
        "authored": {},
        "people": {"9": "Dana Rivera"},
        "privacy_log": [],
    }


def _text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages)


def test_pdf_with_dejavu_keeps_name():
    content = pdf.render_export_pdf(_document("Zoë Nguyễn Ærø"))
    text = _text(content)
    assert "Zoë Nguyễn Ærø" in text
    assert "file of 3 bytes" in text
    assert "AAAA" not in text


def test_pdf_renders_scripts_outside_font():
    content = pdf.render_export_pdf(_document("李小龍 😀 Zoë"))
    assert content.startswith(b"%PDF-")
    assert "Zoë" in _text(content)


def test_pdf_without_font_transliterates(monkeypatch):
    monkeypatch.setattr(pdf, "FONT_DIRS", ())
    text = _text(pdf.render_export_pdf(_document("Zoë Nguyễn 李")))
    assert "Zoë Nguyen ?" in text


def test_transliterate_keeps_latin1():
    assert pdf.transliterate("Zoë Nguyễn Łukasz Đorđe 李") == "Zoë Nguyen Lukasz Dorde ?"
