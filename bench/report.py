"""The table that a run prints, as Markdown, with the facts needed to read it."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .dashboard import DashboardResult
from .launches import CPU_GROUPS, Comparison, MemoryResult, ToolTotals, percentile
from .statements import LaunchStatements
from .sync import SyncResult


@dataclass
class Row:
    measure: str
    ilp: str
    baseline: str = ""
    note: str = ""


@dataclass
class Report:
    command: str
    database: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def header(self) -> list[str]:
        return [
            f"- date: {self.started_at:%Y-%m-%d %H:%M} UTC",
            f"- machine: {os.cpu_count()} cores (nproc), {platform.machine()}, "
            f"{platform.system()} {platform.release()}",
            f"- Python {platform.python_version()}; database: {self.database}",
            f"- command: `{self.command}`",
        ]

    def render(self) -> str:
        lines = ["# lti-ilp benchmark", "", *self.header(), ""]
        lines += [
            "| measure | lti-ilp | baseline | note |",
            "| --- | --- | --- | --- |",
        ]
        for row in self.rows:
            lines.append(f"| {row.measure} | {row.ilp} | {row.baseline} | {row.note} |")
        if self.notes:
            lines += ["", *(f"- {note}" for note in self.notes)]
        return "\n".join(lines) + "\n"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _failures(totals: ToolTotals) -> str:
    failed = sum(totals.errors.values())
    return f"{len(totals.latencies)} ok, {failed} failed"


def _cpu(totals: ToolTotals) -> str:
    return " / ".join(f"{totals.cpu_ms_per_launch(group):.1f}" for group in CPU_GROUPS) + " ms"


def _launch_rows(label: str, ilp: ToolTotals, baseline: ToolTotals) -> list[Row]:
    ratio = ilp.launches_per_second / baseline.launches_per_second if baseline.seconds else 0
    return [
        Row(
            f"full launches per second{label}",
            f"{ilp.launches_per_second:.1f}",
            f"{baseline.launches_per_second:.1f}",
            f"lti-ilp / baseline = {ratio:.2f}",
        ),
        Row(
            f"launch latency p50{label}",
            _ms(percentile(ilp.latencies, 0.50)),
            _ms(percentile(baseline.latencies, 0.50)),
            "login to last response",
        ),
        Row(
            f"launch latency p95{label}",
            _ms(percentile(ilp.latencies, 0.95)),
            _ms(percentile(baseline.latencies, 0.95)),
            "",
        ),
    ]


def add_launch_rows(report: Report, comparison: Comparison) -> None:
    ilp, baseline, baseline_db = comparison.ilp, comparison.baseline, comparison.baseline_db
    report.rows += _launch_rows("", ilp, baseline)
    report.rows += _launch_rows(", baseline storing launches in the database", ilp, baseline_db)
    report.rows.append(
        Row(
            "launches in the timed rounds",
            _failures(ilp),
            f"{_failures(baseline)}; database storage: {_failures(baseline_db)}",
            f"{ilp.seconds:.0f} s, {baseline.seconds:.0f} s and {baseline_db.seconds:.0f} s "
            "of load",
        )
    )
    report.rows.append(
        Row(
            "CPU per launch: tool / platform / clients / database",
            _cpu(ilp),
            _cpu(baseline),
            f"baseline storing launches in the database: {_cpu(baseline_db)}",
        )
    )
    for name, totals in (
        ("lti-ilp", ilp),
        ("baseline", baseline),
        ("baseline with database storage", baseline_db),
    ):
        for message, count in totals.errors.most_common(3):
            report.notes.append(f"{name} launch failure ({count}x): {message}")


def add_memory_row(report: Report, memory: MemoryResult) -> None:
    growth = memory.last_kib - memory.first_kib
    report.rows.append(
        Row(
            f"RSS of one worker after {memory.first_mark} / {memory.last_mark} launches",
            f"{memory.first_kib / 1024:.1f} MiB / {memory.last_kib / 1024:.1f} MiB",
            "",
            f"growth {growth / 1024:+.1f} MiB; {memory.launches_failed} launches failed",
        )
    )


def _statements(result: DashboardResult) -> str:
    return " or ".join(str(count) for count in result.statements)


def add_dashboard_rows(report: Report, results: list[DashboardResult]) -> None:
    base = results[0]
    for result in results:
        growth = result.median_seconds / base.median_seconds
        same = "same" if result.statements == base.statements else "DIFFERENT"
        report.rows.append(
            Row(
                f"triage dashboard, {result.plans} plans",
                f"{_ms(result.median_seconds)}, {_statements(result)} SQL statements",
                f"{base.plans} plans: {_ms(base.median_seconds)}, {_statements(base)} statements",
                f"time x{growth:.1f} for x{result.plans / base.plans:g} plans; "
                f"statement count {same}",
            )
        )


def add_sync_rows(report: Report, results: list[SyncResult]) -> None:
    base = results[0]
    for result in results:
        report.rows.append(
            Row(
                f"scores sent per second, {result.workers} sync worker(s)",
                f"{result.scores_per_second:.1f}",
                f"1 worker: {base.scores_per_second:.1f}",
                f"x{result.scores_per_second / base.scores_per_second:.2f} of 1 worker; "
                f"{result.sent} of {result.queued} sent in {result.seconds:.1f} s",
            )
        )


def add_statement_row(
    report: Report, first: LaunchStatements, returning: LaunchStatements
) -> None:
    def steps(counts: LaunchStatements) -> str:
        return f"{counts.login} / {counts.launch} / {counts.landing_page}"

    report.rows.append(
        Row(
            "SQL statements: login / id_token POST / plan page",
            f"first launch {steps(first)}; returning {steps(returning)}",
            "none (no database)",
            "one student, in-process",
        )
    )
