"""The HTML the access layer renders itself (sign-in form, refusals), from jinja2 templates.

Templates live in ``templates/`` beside this module and are autoescaped: a user name, a path or a
reason shown on a page can never become markup. They hold no inline script, so the pages run
under the same Content-Security-Policy as the screens (``dashboard.access.headers``).
"""

from __future__ import annotations

from importlib.resources import files

from jinja2 import Environment, PackageLoader, StrictUndefined

_templates = Environment(loader=PackageLoader("dashboard.access", "templates"), autoescape=True,
                         undefined=StrictUndefined, keep_trailing_newline=False)


def render(template: str, /, **values: object) -> str:
    """``template`` filled with ``values`` (a missing value is an error, not an empty string)."""
    return _templates.get_template(template).render(**values)


def stylesheet() -> str:
    """The sign-in and admin pages' stylesheet, served at ``/login.css``."""
    return files("dashboard.access").joinpath("templates", "login.css").read_text(encoding="utf-8")
