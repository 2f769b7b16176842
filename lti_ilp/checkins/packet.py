"""The conference packet as a PDF: profile, goals with progress, and next steps."""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

from ..plans.models import Plan
from .models import MODES, CheckIn

# DejaVu Sans covers most scripts that families type in. Without it the PDF falls back to
# Helvetica, which has only Latin-1, so other characters print as "?".
UNICODE_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
UNICODE_FONT_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")


class _Packet(FPDF):
    def __init__(self) -> None:
        super().__init__(format="Letter")
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(18, 18, 18)
        self.unicode = UNICODE_FONT.exists() and UNICODE_FONT_BOLD.exists()
        if self.unicode:
            self.add_font("Body", "", str(UNICODE_FONT))
            self.add_font("Body", "B", str(UNICODE_FONT_BOLD))
            self.family = "Body"
        else:
            self.family = "Helvetica"

    def clean(self, value: object) -> str:
        result = "" if value is None else str(value)
        if not self.unicode:
            result = result.encode("latin-1", "replace").decode("latin-1")
        return result

    def heading(self, value: str, size: int = 13) -> None:
        self.set_font(self.family, "B", size)
        self.multi_cell(0, 7, self.clean(value), new_x="LMARGIN", new_y="NEXT")
        self.ln(1)

    def body(self, value: object, bold: bool = False) -> None:
        self.set_font(self.family, "B" if bold else "", 10)
        self.multi_cell(0, 5, self.clean(value), new_x="LMARGIN", new_y="NEXT")


def render_packet(plan: Plan, checkin: CheckIn, packet: dict) -> bytes:
    """Render the packet built by ``packet_data`` as PDF bytes."""
    pdf = _Packet()
    pdf.set_title(pdf.clean(f"Conference packet: {plan.person.display_name}"))
    pdf.add_page()
    pdf.heading(f"Conference packet: {plan.person.display_name}", 16)
    pdf.body(
        f"Plan year {plan.cycle.name}. Check-in on {checkin.held_on.isoformat()}, "
        f"{MODES.get(checkin.mode, checkin.mode).lower()}."
    )
    if checkin.meeting_link:
        pdf.body(f"Meeting link: {checkin.meeting_link}")
    pdf.body("Participants: " + ", ".join(p.person.display_name for p in checkin.participants))
    pdf.ln(3)

    pdf.heading("Profile")
    for label, answer in packet["profile"]:
        pdf.body(label, bold=True)
        pdf.body(answer or "Not filled in yet")
    pdf.ln(2)

    pdf.heading("Goals and progress")
    for goal in packet["goals"]:
        pdf.body(f"{goal['domain']}: {goal['statement']}", bold=True)
        pdf.body(
            f"Status: {goal['status']}. Progress: {goal['progress']}%. "
            f"Target date: {goal['target_date'] or 'not set'}."
        )
        if goal["measure"]:
            pdf.body(f"Measure: {goal['measure']}")
        for entry in goal["history"]:
            pdf.body(f"  {entry}")
        for step in goal["steps"]:
            pdf.body(
                f"  [{'x' if step['done'] else ' '}] {step['description']}"
                + (f" (due {step['due']})" if step["due"] else "")
            )
        pdf.ln(1)

    pdf.heading("Agenda")
    for line in packet["agenda_lines"]:
        pdf.body(f"- {line}")
    pdf.ln(2)

    pdf.heading("Notes")
    pdf.body(checkin.shared_notes or "No notes yet.")
    pdf.ln(2)

    pdf.heading("Next steps")
    for step in packet["next_steps"]:
        pdf.body(f"- {step}")
    if not packet["next_steps"]:
        pdf.body("No next steps recorded.")
    return bytes(pdf.output())
