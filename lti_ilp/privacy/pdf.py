"""The per-person export as a PDF, for people who read it rather than load it.

The PDF shows the same rows as the JSON export. Uploaded files are listed by name, size and
SHA-256 digest; their contents are only in the JSON export.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

from fpdf import FPDF

from .inventory import TABLES

# DejaVu Sans covers Latin, Greek, Cyrillic, Vietnamese and many other scripts. Debian and
# Ubuntu install it with the fonts-dejavu-core package. Without it the PDF uses Helvetica,
# which has only Latin-1, and other letters are transliterated ("Nguyễn" -> "Nguyen").
FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/local/share/fonts/dejavu"),
)
REGULAR = "DejaVuSans.ttf"
BOLD = "DejaVuSans-Bold.ttf"
MAX_VALUE_CHARS = 4000
# Millimetres; wide enough for the longest column names in 9-point type.
FIELD_NAME_WIDTH = 52


def _font_dir() -> Path | None:
    for directory in FONT_DIRS:
        if (directory / REGULAR).exists() and (directory / BOLD).exists():
            return directory
    return None


# Latin letters that Unicode does not decompose into a base letter and an accent.
LATIN_LETTERS = str.maketrans(
    {
        "Ł": "L",
        "ł": "l",
        "Đ": "D",
        "đ": "d",
        "Œ": "OE",
        "œ": "oe",
        "ı": "i",
        "Ħ": "H",
        "ħ": "h",
        "Ŧ": "T",
        "ŧ": "t",
    }
)


def transliterate(text: str) -> str:
    """Return ``text`` in Latin-1, dropping accents that Latin-1 lacks and marking the rest."""
    result = []
    for char in text.translate(LATIN_LETTERS):
        try:
            char.encode("latin-1")
            result.append(char)
            continue
        except UnicodeEncodeError:
            pass
        decomposed = unicodedata.normalize("NFKD", char)
        stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
        try:
            result.append(stripped.encode("latin-1").decode("latin-1") or "?")
        except UnicodeEncodeError:
            result.append("?")
    return "".join(result)


class _ExportDocument(FPDF):
    def __init__(self, font_dir: Path | None) -> None:
        super().__init__(format="Letter")
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(18, 18, 18)
        self.unicode_font = font_dir is not None
        if font_dir is not None:
            self.add_font("Body", "", str(font_dir / REGULAR))
            self.add_font("Body", "B", str(font_dir / BOLD))
            self.family_name = "Body"
        else:
            self.family_name = "Helvetica"

    def clean(self, value: object) -> str:
        text = "" if value is None else str(value)
        if len(text) > MAX_VALUE_CHARS:
            text = (
                text[:MAX_VALUE_CHARS] + f" [... {len(text) - MAX_VALUE_CHARS} more "
                "characters in the JSON export]"
            )
        return text if self.unicode_font else transliterate(text)

    def heading(self, text: str, size: int = 13) -> None:
        self.set_font(self.family_name, "B", size)
        self.multi_cell(0, 7, self.clean(text), align="L", new_x="LMARGIN", new_y="NEXT")
        self.ln(1)

    def paragraph(self, text: object, bold: bool = False, size: int = 10) -> None:
        self.set_font(self.family_name, "B" if bold else "", size)
        self.multi_cell(0, 5, self.clean(text), align="L", new_x="LMARGIN", new_y="NEXT")

    def field(self, name: str, value: object) -> None:
        """Write one column: its name on the left, its value wrapped on the right."""
        self.set_font(self.family_name, "B", 9)
        self.cell(FIELD_NAME_WIDTH, 4.5, self.clean(name))
        self.set_font(self.family_name, "", 9)
        self.multi_cell(
            0, 4.5, self.clean(_display(value)), align="L", new_x="LMARGIN", new_y="NEXT"
        )


def _display(value: object) -> str:
    if value is None:
        return "(empty)"
    if isinstance(value, dict) and value.get("encoding") == "base64":
        return f"file of {value['size']} bytes, SHA-256 {value['sha256']}"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, indent=1)
    if value == "":
        return "(empty)"
    return str(value)


def render_export_pdf(document: dict) -> bytes:
    """Render an export document from ``export_person`` as PDF bytes."""
    pdf = _ExportDocument(_font_dir())
    title = f"Data stored about person {document['person_id']}"
    pdf.set_title(title)
    pdf.add_page()
    pdf.heading(title, 16)
    deployment = document["deployment"]
    pdf.paragraph(
        f"Generated {document['generated_at']} for the LMS {deployment['issuer']} "
        f"(client_id {deployment['client_id']}, deployment "
        f"{deployment['deployment_id']})."
    )
    for note in document["notes"]:
        pdf.paragraph(note)
    pdf.ln(2)

    _section(pdf, "Records that belong to this person", document["records"])
    _section(pdf, "Content this person wrote in other people's records", document["authored"])
    if document["people"]:
        pdf.heading("Other people named by id")
        for person_id, name in document["people"].items():
            pdf.field(f"person {person_id}", name)
    if document["privacy_log"]:
        _table(pdf, "privacy_log_entry", document["privacy_log"])
    return bytes(pdf.output())


def _section(pdf: _ExportDocument, title: str, tables: dict) -> None:
    pdf.heading(title, 14)
    if not tables:
        pdf.paragraph("None.")
        pdf.ln(2)
    for name, rows in tables.items():
        _table(pdf, name, rows)


def _table(pdf: _ExportDocument, name: str, rows: list[dict]) -> None:
    pdf.heading(f"{name} ({len(rows)} {'row' if len(rows) == 1 else 'rows'})", 12)
    notes = TABLES.get(name)
    if notes is not None:
        pdf.paragraph(notes.purpose, size=9)
        pdf.ln(1)
    for number, row in enumerate(rows, start=1):
        pdf.paragraph(f"{name} row {number}", bold=True, size=9)
        for column, value in row.items():
            pdf.field(column, value)
        pdf.ln(2)
