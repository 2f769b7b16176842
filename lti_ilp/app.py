"""The Flask application factory."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, redirect, url_for
from werkzeug.middleware.proxy_fix import ProxyFix

from .extensions import db, migrate
from .settings import PROJECT_ROOT, Settings

MIGRATIONS_DIR = PROJECT_ROOT / "migrations"
TEMPLATES_DIR = PROJECT_ROOT / "templates"


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    settings.validate()
    app = Flask(
        __name__,
        template_folder=str(TEMPLATES_DIR),
        static_folder=str(Path(__file__).parent / "static"),
    )
    app.config.update(
        ILP_SETTINGS=settings,
        SECRET_KEY=settings.secret_key,
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(settings.database_url),
        MAX_CONTENT_LENGTH=10 * 1024 * 1024,
    )
    logging.getLogger("lti_ilp").setLevel(settings.log_level.upper())
    if settings.proxy_hops:
        app.wsgi_app = ProxyFix(
            app.wsgi_app,
            x_for=settings.proxy_hops,
            x_proto=settings.proxy_hops,
            x_host=settings.proxy_hops,
            x_port=settings.proxy_hops,
        )

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    _register_blueprints(app)

    from .web.errors import register_error_pages
    from .web.headers import register_security_headers

    register_error_pages(app)
    register_security_headers(app)

    @app.get("/")
    def index():
        return redirect(url_for("lti.config"))

    @app.get("/healthz")
    def health():
        return {"status": "ok"}

    return app


def _engine_options(database_url: str) -> dict:
    if database_url.startswith("sqlite"):
        # Launches write from several threads; wait for the lock instead of failing.
        return {"connect_args": {"timeout": 30}}
    return {"pool_pre_ping": True}


def _register_blueprints(app: Flask) -> None:
    from . import models  # noqa: F401  (every table must be known to SQLAlchemy)
    from .courses.views import bp as courses_bp
    from .lti.views import bp as lti_bp
    from .plans.views import bp as plans_bp

    app.register_blueprint(lti_bp)
    app.register_blueprint(plans_bp)
    app.register_blueprint(courses_bp)
