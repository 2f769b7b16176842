"""``python -m bench``: run every measurement and print the table."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from lti_ilp import create_app
from lti_ilp.extensions import db
from lti_ilp.platforms.models import Deployment

from .config import CONFIG_ENV
from .dashboard import TIMED_DRAWS, measure_dashboard
from .launches import LaunchOptions, compare_launches, measure_memory
from .report import (
    Report,
    add_dashboard_rows,
    add_launch_rows,
    add_memory_row,
    add_statement_row,
    add_sync_rows,
)
from .servers import GunicornProcess, ServeOptions
from .setup_run import (
    ToolEnvironment,
    UnsafeDatabase,
    check_database_url,
    make_run_config,
    prepare_database,
    tool_settings,
)
from .statements import count_launch_statements
from .sync import measure_sync

PLATFORM_TARGET = "bench.platform_app:create_platform_app()"
LMS_TARGET = "bench.grades_lms:create_grades_lms_app()"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Measure lti-ilp's launches, dashboard, grade sync and worker memory, "
        "each beside a baseline measured in the same run, and print a Markdown table.",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL"),
        help="SQLAlchemy URL of a database whose name contains 'bench'; every table in it "
        "is dropped. Default: $BENCH_DATABASE_URL, else a SQLite file in a temporary "
        "directory.",
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="gunicorn workers of each tool (default: 2)"
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=4,
        help="client processes launching at the same time (default: 4)",
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="timed rounds per tool, alternating (default: 3)"
    )
    parser.add_argument(
        "--round-seconds",
        type=float,
        default=15.0,
        help="length of one timed round in seconds (default: 15)",
    )
    parser.add_argument(
        "--memory-launches",
        type=int,
        default=10_000,
        help="launches served by the one worker whose memory is read (default: 10000)",
    )
    parser.add_argument(
        "--users",
        type=int,
        default=3000,
        help="distinct students that the platform launches (default: 3000)",
    )
    parser.add_argument(
        "--courses",
        type=int,
        default=60,
        help="distinct courses that launches come from (default: 60)",
    )
    parser.add_argument(
        "--dashboard-sizes",
        type=int,
        nargs="+",
        default=[100, 1000, 5000],
        help="plan counts of the dashboard rows; the first is the baseline "
        "(default: 100 1000 5000)",
    )
    parser.add_argument(
        "--sync-scores",
        type=int,
        default=400,
        help="scores queued per grade sync round (default: 400)",
    )
    parser.add_argument("--output", type=Path, help="also write the table to this Markdown file")
    return parser.parse_args(argv)


def database_version(url: str) -> str:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "postgresql":
                version = connection.execute(text("SHOW server_version")).scalar_one()
                return f"PostgreSQL {version}"
            version = connection.execute(text("select sqlite_version()")).scalar_one()
            return f"SQLite {version}"
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    command = "python -m bench " + shlex.join(sys.argv[1:] if argv is None else argv)
    with tempfile.TemporaryDirectory(prefix="lti-ilp-bench-") as directory:
        run_dir = Path(directory).resolve()
        database_url = args.database_url or f"sqlite:///{run_dir / 'bench.sqlite3'}"
        try:
            check_database_url(database_url, run_dir)
        except UnsafeDatabase as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        report = Report(command=command.strip(), database=database_version(database_url))
        print(
            f"database: {make_url(database_url).render_as_string(hide_password=True)}",
            file=sys.stderr,
        )
        run(args, run_dir, database_url, report)
    text_table = report.render()
    print(text_table)
    if args.output:
        args.output.write_text(text_table)
    return 0


def _progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace, run_dir: Path, database_url: str, report: Report) -> None:
    config = make_run_config(run_dir, args.users, args.courses, args.sync_scores)
    config_path = run_dir / "config.json"
    os.environ[CONFIG_ENV] = str(config_path)
    settings = tool_settings(database_url, run_dir)
    prepare_database(settings, config)
    tool_env = ToolEnvironment(settings).as_env()
    options = LaunchOptions(
        workers=args.workers,
        concurrency=args.concurrency,
        rounds=args.rounds,
        round_seconds=args.round_seconds,
        memory_launches=args.memory_launches,
    )
    platform_port = int(config.platform_url.rsplit(":", 1)[1])
    platform_serve = ServeOptions(workers=args.workers)
    with GunicornProcess(
        "platform",
        PLATFORM_TARGET,
        platform_port,
        platform_serve,
        {CONFIG_ENV: str(config_path)},
        run_dir,
    ) as platform:
        _progress("launches: lti-ilp and both baselines, alternating rounds")
        comparison = compare_launches(config_path, config, options, tool_env, run_dir, platform)
        add_launch_rows(report, comparison)
        _progress(f"memory: {args.memory_launches} launches on one worker")
        add_memory_row(report, measure_memory(config_path, config, options, tool_env, run_dir))
        report.notes.append(
            "Memory: lti-ilp is served by gunicorn with 1 sync worker. Its VmRSS is read "
            "from /proc/<pid>/status after the first launches and again after the last."
        )
    report.notes.insert(
        0,
        f"lti-ilp, both baselines and the demo platform are served by "
        f"{comparison.serve.describe()}, on 127.0.0.1; {args.concurrency} client processes "
        "on the same machine walk each launch (login initiation, platform auth, id_token "
        "POST, and for lti-ilp the plan page). The baseline keeps state, nonce and launch "
        "in its session cookie. The baseline storing launches in the database is the same "
        "tool with pylti1p3's launch data storage (nonce and launch) in a key-value table "
        "of the run's database. CPU per launch is the CPU time (user and system, from "
        "/proc/<pid>/stat) that each group of processes used during the timed rounds, "
        "divided by the launches: the tool's gunicorn processes, the platform's, the "
        "client processes, and every PostgreSQL server process of the machine (0 on "
        "SQLite, which runs inside the tool).",
    )
    _progress("dashboard: " + ", ".join(str(size) for size in args.dashboard_sizes) + " plans")
    add_dashboard_rows(report, run_dashboard(settings, config, args.dashboard_sizes))
    add_statement_row(report, *run_statement_count(settings, config))
    report.notes.append(
        "Dashboard: drawn in-process with Flask's test client (server time, no HTTP), median "
        f"of {TIMED_DRAWS} draws after one untimed draw, with planner statistics updated "
        "(ANALYZE) after filling each course; statements counted with SQLAlchemy's "
        "before_cursor_execute event."
    )
    _progress("grade sync: 1 and 4 workers")
    add_sync_rows(report, run_grade_sync(settings, config, config_path, tool_env, run_dir))
    report.notes.append(
        f"Grade sync: `lti-ilp sync --once` with 1, then 4 worker threads, in the benchmark's "
        f"process, sending {args.sync_scores} scores per round to the demo LMS, which "
        "gunicorn serves with 1 worker and 8 threads."
    )


def run_grade_sync(settings, config, config_path: Path, tool_env: dict[str, str], run_dir: Path):
    """Serve the demo LMS, and lti-ilp for its JWKS (the LMS checks the worker's client
    assertion against it), then run the sync worker here."""
    env = {CONFIG_ENV: str(config_path)}
    lms_port = int(config.platforms["lms"].issuer.rsplit(":", 1)[1])
    tool_port = int(config.platforms["ilp"].tool_url.rsplit(":", 1)[1])
    lms_serve = ServeOptions(workers=1, worker_class="gthread", threads=8)
    app = create_app(settings)
    with (
        GunicornProcess("grades-lms", LMS_TARGET, lms_port, lms_serve, env, run_dir),
        GunicornProcess(
            "ilp-jwks",
            "lti_ilp:create_app()",
            tool_port,
            ServeOptions(workers=1),
            {**env, **tool_env},
            run_dir,
        ),
    ):
        results = measure_sync(app, config, [1, 4])
    with app.app_context():
        db.engine.dispose()
    return results


def run_statement_count(settings, config):
    """Count the statements of one launch in-process. The platform's JWKS is already in
    the database from the launch rows, so no server is needed."""
    app = create_app(settings)
    counts = count_launch_statements(app, config)
    with app.app_context():
        db.engine.dispose()
    return counts


def run_dashboard(settings, config, sizes: list[int]):
    app = create_app(settings)
    with app.app_context():
        deployment_id = db.session.scalar(
            select(Deployment.id).where(
                Deployment.deployment_id == config.platforms["ilp"].deployment_id
            )
        )
    results = measure_dashboard(app, deployment_id, sizes)
    with app.app_context():
        db.engine.dispose()
    return results
