"""The launch rows: launches per second and latency against the baseline, and the memory
of one lti-ilp worker."""

from __future__ import annotations

import os
import statistics
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from .baseline_tool import DATABASE_URL_ENV
from .client import LoadPlan, LoadResult, run_load
from .config import RunConfig
from .servers import (
    GunicornProcess,
    ServeOptions,
    cpu_seconds,
    database_server_pids,
    resident_set_kib,
)

ILP_TARGET = "lti_ilp:create_app()"
BASELINE_TARGETS = {
    "baseline": "bench.baseline_tool:create_baseline_app()",
    "baseline_db": "bench.baseline_tool:create_baseline_db_app()",
}
WARMUP_LAUNCHES = 40


@dataclass(frozen=True)
class LaunchOptions:
    workers: int
    concurrency: int
    rounds: int
    round_seconds: float
    memory_launches: int
    memory_first_mark: int = 100


# The process groups whose CPU time a launch round reads, in the order the report shows.
CPU_GROUPS = ("tool", "platform", "clients", "database")


class CpuClock:
    """Reads the CPU time of each process group of a launch round: the tool's gunicorn
    processes, the platform's, the client processes (children of this process, counted
    once they are reaped) and the PostgreSQL server processes."""

    def __init__(self, tool: GunicornProcess, platform: GunicornProcess) -> None:
        self.tool = tool
        self.platform = platform

    def read(self) -> dict[str, float]:
        children = os.times()
        return {
            "tool": self.tool.cpu_seconds(),
            "platform": self.platform.cpu_seconds(),
            "clients": children.children_user + children.children_system,
            "database": sum(cpu_seconds(pid) for pid in database_server_pids()),
        }


@dataclass
class ToolTotals:
    """The launches of every timed round of one tool; ``seconds`` adds up the rounds' wall
    times, so the rate leaves out the gaps between rounds. ``cpu_seconds`` adds up the CPU
    time of each process group over the rounds."""

    latencies: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    cpu_seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(CPU_GROUPS, 0.0))

    def cpu_ms_per_launch(self, group: str) -> float:
        launches = len(self.latencies)
        return self.cpu_seconds[group] * 1000 / launches if launches else 0.0

    def add_cpu(self, before: dict[str, float], after: dict[str, float]) -> None:
        for group in CPU_GROUPS:
            self.cpu_seconds[group] += after[group] - before[group]

    @property
    def launches_per_second(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def add_round(self, result: LoadResult) -> None:
        self.latencies.extend(result.latencies)
        self.errors.update(result.errors)
        self.seconds += result.wall_seconds


@dataclass
class Comparison:
    serve: ServeOptions
    ilp: ToolTotals = field(default_factory=ToolTotals)
    baseline: ToolTotals = field(default_factory=ToolTotals)
    baseline_db: ToolTotals = field(default_factory=ToolTotals)


@dataclass
class MemoryResult:
    first_mark: int
    first_kib: int
    last_mark: int
    last_kib: int
    launches_failed: int


def percentile(values: list[float], fraction: float) -> float:
    """Return the ``fraction`` quantile (0 to 1) of ``values``, by linear interpolation."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(fraction * 100) - 1]


def _plan(name: str, options: LaunchOptions, seconds: float, launches: int, seed: int) -> LoadPlan:
    return LoadPlan(
        platform_name=name,
        opens_landing_page=(name == "ilp"),
        concurrency=options.concurrency,
        max_launches=launches,
        max_seconds=seconds,
        seed=seed,
    )


def compare_launches(
    config_path: Path,
    config: RunConfig,
    options: LaunchOptions,
    tool_env: dict[str, str],
    run_dir: Path,
    platform: GunicornProcess,
) -> Comparison:
    """Serve lti-ilp and both baselines the same way, then alternate timed rounds of each,
    so that any change in the machine's load during the run falls on all three."""
    serve = ServeOptions(workers=options.workers)
    base_env = {"BENCH_CONFIG": str(config_path)}
    database_env = {DATABASE_URL_ENV: tool_env["ILP_DATABASE_URL"]}
    comparison = Comparison(serve=serve)
    servers: dict[str, GunicornProcess] = {}
    with ExitStack() as stack:
        servers["ilp"] = stack.enter_context(
            GunicornProcess(
                "ilp", ILP_TARGET, _port(config, "ilp"), serve, {**base_env, **tool_env}, run_dir
            )
        )
        for name, target in BASELINE_TARGETS.items():
            env = {**base_env, **database_env} if name == "baseline_db" else base_env
            servers[name] = stack.enter_context(
                GunicornProcess(name, target, _port(config, name), serve, env, run_dir)
            )
        for name in servers:
            run_load(str(config_path), _plan(name, options, 60, WARMUP_LAUNCHES, seed=0))
        for round_index in range(options.rounds):
            for name, server in servers.items():
                clock = CpuClock(server, platform)
                plan = _plan(name, options, options.round_seconds, 10**6, seed=round_index + 1)
                before = clock.read()
                result = run_load(str(config_path), plan)
                totals = getattr(comparison, name)
                totals.add_round(result)
                totals.add_cpu(before, clock.read())
    return comparison


def _port(config: RunConfig, name: str) -> int:
    return int(config.platforms[name].tool_url.rsplit(":", 1)[1])


def measure_memory(
    config_path: Path,
    config: RunConfig,
    options: LaunchOptions,
    tool_env: dict[str, str],
    run_dir: Path,
) -> MemoryResult:
    """Serve lti-ilp with one worker and read that worker's resident set size (VmRSS from
    /proc) after the first ``memory_first_mark`` launches and after ``memory_launches``."""
    serve = ServeOptions(workers=1)
    port = _port(config, "ilp")
    env = {"BENCH_CONFIG": str(config_path), **tool_env}
    with GunicornProcess("ilp-memory", ILP_TARGET, port, serve, env, run_dir) as server:
        (worker_pid,) = server.worker_pids()
        first = run_load(
            str(config_path), _plan("ilp", options, 600, options.memory_first_mark, seed=101)
        )
        first_kib = resident_set_kib(worker_pid)
        rest = run_load(
            str(config_path),
            _plan(
                "ilp", options, 900, options.memory_launches - options.memory_first_mark, seed=102
            ),
        )
        last_kib = resident_set_kib(worker_pid)
        if server.worker_pids() != [worker_pid]:
            raise RuntimeError("the measured gunicorn worker was replaced during the run")
    first_failed = sum(first.errors.values())
    rest_failed = sum(rest.errors.values())
    first_mark = len(first.latencies) + first_failed
    return MemoryResult(
        first_mark=first_mark,
        first_kib=first_kib,
        last_mark=first_mark + len(rest.latencies) + rest_failed,
        last_kib=last_kib,
        launches_failed=first_failed + rest_failed,
    )
