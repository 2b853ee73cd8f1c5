"""An app whose import fails: a dependency missing from the environment
Gunicorn runs in, so every worker raises ModuleNotFoundError (an
ImportError) while booting."""

import sigtail_e2e_missing_dependency  # noqa: F401  (not installed, on purpose)


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"unreachable\n"]
