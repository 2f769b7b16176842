"""Running the tool under gunicorn, a production WSGI server."""

from __future__ import annotations

from gunicorn.app.base import BaseApplication


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
            # The default access log format includes the query string; launch URLs carry no
            # secrets in the query, but keep the path only to be safe.
            "access_log_format": '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss',
            "timeout": 60,
        }
    ).run()
