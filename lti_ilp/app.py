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

    from .logging_setup import install_log_redaction
    from .web.errors import register_error_pages
    from .web.headers import register_security_headers
    from .web.ratelimit import register_rate_limits
    from .web.sanitize import register_sanitize

    register_error_pages(app)
    register_security_headers(app)
    register_rate_limits(app)
    register_sanitize(app)
    install_log_redaction()

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
        return {"connect_args": {"timeout": 30}, "hide_parameters": True}
    # hide_parameters keeps plan text and names out of logged database errors.
    return {"pool_pre_ping": True, "hide_parameters": True}


def _register_blueprints(app: Flask) -> None:
    from . import models  # noqa: F401  (every table must be known to SQLAlchemy)
    from .checkpoints.views import bp as checkpoints_bp
    from .courses.views import bp as courses_bp
    from .grades.views import bp as grades_bp
    from .lti.views import bp as lti_bp
    from .plans.views import bp as plans_bp

    app.register_blueprint(lti_bp)

    from .admin.views import bp as admin_bp
    from .admin.views import lti_bp as lti_admin_bp
    from .install.views import bp as install_bp
    from .registration.views import bp as registration_bp

    app.register_blueprint(admin_bp)
    app.register_blueprint(lti_admin_bp)
    app.register_blueprint(install_bp)
    app.register_blueprint(registration_bp)
    app.register_blueprint(plans_bp)

    from .checkins.views import bp as checkins_bp
    from .growth.views import bp as growth_bp
    from .plan_templates.views import bp as plan_templates_bp
    from .plans.coordinator import bp as coordinator_bp
    from .plans.landing import register_plan_landings

    app.register_blueprint(checkins_bp)
    app.register_blueprint(growth_bp)
    app.register_blueprint(plan_templates_bp)
    app.register_blueprint(coordinator_bp)
    from .widget.views import register_widget_landing

    # The widget rule goes first: a mentor or coordinator launching the widget sees it.
    register_widget_landing()
    register_plan_landings()
    from .dashboard.views import register_dashboard_landing

    register_dashboard_landing()
    app.register_blueprint(courses_bp)
    app.register_blueprint(checkpoints_bp)
    app.register_blueprint(grades_bp)

    from .activity import service as activity_service  # noqa: F401  (connects receivers)
    from .dashboard.views import bp as dashboard_bp
    from .nudges.views import bp as nudges_bp
    from .nudges.views import demo_bp as nudges_demo_bp
    from .nudges.views import register_banner
    from .widget.views import bp as widget_bp

    app.register_blueprint(dashboard_bp)
    app.register_blueprint(nudges_bp)
    app.register_blueprint(nudges_demo_bp)
    app.register_blueprint(widget_bp)
    register_banner(app)

    from .privacy.views import bp as privacy_bp

    app.register_blueprint(privacy_bp)
