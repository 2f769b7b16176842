"""Install pages: the Canvas JSON configuration and the manual setup page for each LMS.

Everything here is public: it contains only the tool's own public URLs.
"""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, render_template

from .canvas import canvas_configuration
from .manual import dynamic_registration_url, find_guide, guides

bp = Blueprint("install", __name__)


@bp.get("/lti/canvas.json")
def canvas_config():
    response = jsonify(canvas_configuration())
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response


@bp.get("/install/")
def index():
    return render_template(
        "install/index.html", guides=guides(), registration_url=dynamic_registration_url()
    )


@bp.get("/install/<lms>")
def guide(lms: str):
    found = find_guide(lms)
    if found is None:
        names = ", ".join(guide.key for guide in guides())
        abort(404, description=f"There is no setup page for {lms!r}. Pages exist for: {names}.")
    return render_template(
        "install/guide.html", guide=found, registration_url=dynamic_registration_url()
    )
