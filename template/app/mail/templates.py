"""Mail bodies from Jinja2 templates in app/mail/templates: `<name>.txt` and `<name>.html`."""

from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from app.mail.sender import Mail

_environment = Environment(
    loader=PackageLoader("app.mail", "templates"),
    # HTML is escaped (a user's name is not markup); a missing variable is an error.
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    enable_async=True,
)


async def render(template: str, to: str, subject: str, **context: Any) -> Mail:
    text = await _environment.get_template(f"{template}.txt").render_async(**context)
    html = await _environment.get_template(f"{template}.html").render_async(**context)
    return Mail(to=to, subject=subject, text=text, html=html)
