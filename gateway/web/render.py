"""Turn a page's data into HTML: one Jinja2 environment over `templates/` (escaping always
on), every string through gettext with the English catalogue (Babel), money and dates
formatted for en-GB. Python passes data to templates; it never writes markup itself.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency
from babel.support import Translations
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
CATALOGUE = HERE / "translations" / "en_GB" / "LC_MESSAGES" / "messages.po"
LOCALE = "en_GB"
TIMEZONE = ZoneInfo("Europe/London")


def money(pennies: int) -> str:
    """Integer pennies as pounds for en-GB: 1250 -> £12.50 (never through a float)."""
    return format_currency(Decimal(pennies).scaleb(-2), "GBP", locale=LOCALE)


def date_time(unix_seconds: int) -> str:
    """A moment as members in the UK read it: 3 March 2027 at 14:30 (UK time)."""
    moment = datetime.fromtimestamp(unix_seconds, UTC)
    return format_datetime(moment, "d MMMM y 'at' HH:mm", tzinfo=TIMEZONE, locale=LOCALE)


def _translations() -> Translations:
    """The English catalogue, compiled in memory from the committed `.po` file."""
    with CATALOGUE.open("rb") as source:
        catalog = read_po(source, locale=LOCALE)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(TRANSLATIONS, newstyle=True)  # type: ignore[attr-defined]
    env.filters["money"] = money
    env.filters["date_time"] = date_time
    return env


TRANSLATIONS = _translations()
ENVIRONMENT = _environment()


def gettext(message: str, **values: Any) -> str:
    """A string said from Python (an error message, a page title), through the catalogue."""
    text = TRANSLATIONS.gettext(message)
    return text % values if values else text


def page(
    request: Request, template: str, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """Render `template` with the signed-in member's page furniture (their CSRF token for
    the sign-out form, the current path for the navigation)."""
    web = getattr(request.state, "web", None)
    body = ENVIRONMENT.get_template(template).render(
        path=request.url.path,
        signed_in=web is not None,
        csrf_token=web.csrf_token if web is not None else "",
        **context,
    )
    return HTMLResponse(body, status_code=status_code, headers={"Cache-Control": "no-store"})
