"""Starting and stopping the gunicorn processes of a run, and reading a worker's memory."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

READY_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 20


@dataclass(frozen=True)
class ServeOptions:
    """The gunicorn options of one server, given alike to the tool and the baseline."""

    workers: int
    worker_class: str = "sync"
    threads: int = 1
    timeout_seconds: int = 60

    def describe(self) -> str:
        return f"gunicorn, {self.workers} {self.worker_class} worker(s) each"


class GunicornProcess:
    """One gunicorn master serving ``target`` on 127.0.0.1:``port``, stopped on exit."""

    def __init__(
        self,
        name: str,
        target: str,
        port: int,
        options: ServeOptions,
        env: dict[str, str],
        log_dir: Path,
    ) -> None:
        self.name = name
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_dir / f"{name}.log"
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(options.workers),
            "--worker-class",
            options.worker_class,
            "--threads",
            str(options.threads),
            "--timeout",
            str(options.timeout_seconds),
            "--access-logfile",
            str(log_dir / f"{name}.access.log"),
            "--error-logfile",
            str(self.log_path),
            target,
        ]
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 (a fixed command, no shell)
            command,
            env={**os.environ, **env},
            stdout=self._log,
            stderr=self._log,
        )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start; see {self.log_path}")
            try:
                if requests.get(self.url + "/healthz", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not respond within {READY_TIMEOUT_SECONDS} s")

    def worker_pids(self) -> list[int]:
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()]

    def cpu_seconds(self) -> float:
        """Return the CPU time used so far by the gunicorn master and its live workers."""
        return sum(cpu_seconds(pid) for pid in [self.process.pid, *self.worker_pids()])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()

    def __enter__(self) -> GunicornProcess:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def resident_set_kib(pid: int) -> int:
    """Return the resident set size (VmRSS) of process ``pid`` in KiB, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/{pid}/status has no VmRSS line")


def cpu_seconds(pid: int) -> float:
    """Return the user plus system CPU time of process ``pid`` in seconds, from
    /proc/<pid>/stat, or 0.0 when the process has exited."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    # Fields after the command name, which is in parentheses and may contain spaces:
    # utime and stime are the 14th and 15th fields of the whole line.
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def database_server_pids() -> list[int]:
    """Return the ids of the PostgreSQL server processes on this machine, read from the
    command names in /proc."""
    pids = []
    for stat_path in Path("/proc").glob("[0-9]*/stat"):
        try:
            stat = stat_path.read_text()
        except OSError:
            continue
        if stat.split("(", 1)[1].split(")", 1)[0] == "postgres":
            pids.append(int(stat_path.parent.name))
    return pids
