"""Several ``lti-ilp serve`` processes on 127.0.0.1 against one database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

START_TIMEOUT_SECONDS = 60


class AppProcess:
    """One ``lti-ilp serve`` process with one gunicorn worker."""

    def __init__(self, port: int, env: dict[str, str], log_path: Path) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self._log = log_path.open("wb")
        command = [
            sys.executable,
            "-m",
            "lti_ilp.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ]
        self.process = subprocess.Popen(  # noqa: S603 (a fixed command, no shell)
            command, env={**os.environ, **env}, stdout=self._log, stderr=subprocess.STDOUT
        )

    def wait_ready(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.url} exited at start:\n{self.log_text()}")
            try:
                if requests.get(self.url + "/healthz", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.url} did not respond within {START_TIMEOUT_SECONDS} s")

    def log_text(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def start_app_processes(ports: list[int], env: dict[str, str], log_dir: Path) -> list[AppProcess]:
    processes = [AppProcess(port, env, log_dir / f"app-{port}.log") for port in ports]
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    try:
        for process in processes:
            process.wait_ready(deadline)
    except RuntimeError:
        for process in processes:
            process.stop()
        raise
    return processes
