"""lti-ilp: Individualized Learning Plans inside an LTI 1.3 LMS."""

__version__ = "0.1.0"


def create_app(settings=None):
    from .app import create_app as _create_app

    return _create_app(settings)
