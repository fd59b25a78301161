"""The member pages' answers to errors: a page that says what happened and what to do next
(403, 404, 500, ...), or, without a session, the way to sign in. The app's error handlers
call `is_page` and `error_page` for the pages' paths; the API keeps its JSON.

Never show an exception's text to a member unless it was written for them (`GatewayError`).
"""

from __future__ import annotations

from eccoo.gateway.errors import GatewayError, SignInNeeded
from eccoo.gateway.web.provider import CALLBACK_PATH
from eccoo.gateway.web.render import gettext as _
from eccoo.gateway.web.render import page
from fastapi import Request
from fastapi.responses import RedirectResponse, Response


def is_page(request: Request) -> bool:
    path = request.url.path
    return path == "/web" or path.startswith("/web/") or path == CALLBACK_PATH


def _what_next(status: int) -> tuple[str, list[str]]:
    if status == 403:
        return _("You cannot do that"), [
            _("Your hats do not allow this, or the form was out of date."),
            _("Go back, reload the page and try again. If it keeps happening, ask a coordinator."),
        ]
    if status == 404:
        return _("Page not found"), [
            _(
                "There is nothing here for you: the address may be wrong, or it may belong to "
                "someone else."
            ),
            _("Check the address, or start again from your home page."),
        ]
    if status == 429 or status >= 503:
        return _("Try again in a minute"), [
            _("eccoo is busy or part of it is restarting. Nothing was changed."),
        ]
    if status >= 500:
        return _("Sorry, there is a problem with eccoo"), [
            _("Nothing was changed. Try again later."),
            _("If it keeps happening, tell a coordinator what you were doing."),
        ]
    return _("That did not work"), [_("Nothing was changed. Go back and check what you sent.")]


def error_page(request: Request, status: int, exc: Exception | None = None) -> Response:
    if isinstance(exc, SignInNeeded):
        return RedirectResponse("/web", 303)
    title, paragraphs = _what_next(status)
    if isinstance(exc, GatewayError) and 400 <= status < 500 and status not in (403, 404):
        paragraphs = [exc.message, *paragraphs]
    return page(
        request,
        "message.html",
        status_code=status,
        title=title,
        paragraphs=paragraphs,
        next_href="/web",
        next_label=_("Go to your home page"),
    )
