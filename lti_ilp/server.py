"""Running the tool under gunicorn, a production WSGI server."""

from __future__ import annotations

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from .logging_setup import REDACTED, redact_request_line


class RedactingLogger(Logger):
    """Gunicorn's logger with session tokens and query strings removed from access logs.

    Request and response headers are dropped from the atoms too, because they can carry
    cookies with login state.
    """

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for name in ("r", "U"):
            if atoms.get(name):
                atoms[name] = redact_request_line(atoms[name])
        if atoms.get("q"):
            atoms["q"] = REDACTED
        if atoms.get("f") and atoms["f"] != "-":
            atoms["f"] = redact_request_line(atoms["f"])
        return {
            key: value
            for key, value in atoms.items()
            if not (key.startswith("{") and key[-2:] in {"}i", "}o", "}e"})
        }


class _GunicornApp(BaseApplication):
    def __init__(self, options: dict) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from . import create_app

        return create_app()


def run_gunicorn(host: str, port: int, workers: int) -> None:
    _GunicornApp(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "accesslog": "-",
            # Paths only: RedactingLogger also removes session tokens from them.
            "access_log_format": '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss',
            "logger_class": RedactingLogger,
            "timeout": 60,
        }
    ).run()
