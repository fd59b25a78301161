"""The booking form, built from the API's own booking request model (`BookIn`): each of its
fields becomes a form question, the answers become a `BookIn`, and its validation errors
become the GOV.UK error summary. A field added to `BookIn` appears here as a plain question.

The form never decides what a valid booking is: `BookIn` and the ledger do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from eccoo.gateway.api.schemas import BookIn
from eccoo.gateway.web.render import TIMEZONE
from eccoo.gateway.web.render import gettext as _
from pydantic import ValidationError
from starlette.datastructures import FormData

# Fields the form asks for in their own way; any other field of BookIn is a text question.
# There is no rate: a booking is priced from the giver's own hourly rate on the ledger.
DATE_FIELD = "start"
_TIME = re.compile(r"^\s*(\d{1,2})[:.](\d{2})\s*$")


def labels() -> dict[str, tuple[str, str]]:
    """Each field's question and hint, in the cooperative's words."""
    return {
        "receiver": (_("Who is getting support?"), ""),
        "giver": (
            _("Who is giving support?"),
            _("Their eccoo wallet address, starting 0x. They can find it on their home page."),
        ),
        "start": (_("Date of the visit"), _("For example, 27 3 2027")),
        "time": (_("Start time"), _("Use the 24-hour clock, for example 14:30")),
        "duration_minutes": (_("Length of the visit in minutes"), _("For example, 90")),
        "pot_id": (_("Funding pot number"), _("The number of the pot that pays for the visit")),
    }


def _messages() -> dict[str, str]:
    return {
        "receiver": _("Choose who is getting support"),
        "giver": _("Enter the wallet address of the person giving support, starting 0x"),
        "start": _("Enter a real date for the visit"),
        "time": _("Enter a start time like 14:30"),
        "duration_minutes": _("Enter the length of the visit in whole minutes, up to 1440"),
        "pot_id": _("Enter the funding pot number"),
    }


def extra_fields() -> list[str]:
    known = set(labels()) | {DATE_FIELD}
    return [name for name in BookIn.model_fields if name not in known]


@dataclass
class Answers:
    """What the member typed, kept to show the form again, and the errors found in it."""

    values: dict[str, str] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)

    def error_for(self, name: str) -> str:
        target = anchor(name)
        return next((message for field_id, message in self.errors if field_id == target), "")


def anchor(name: str) -> str:
    """The element a field's error links to: a date's first input, else the field itself."""
    return f"{name}-day" if name == DATE_FIELD else name


def _day(values: dict[str, str]) -> date | None:
    try:
        day, month, year = (int(values[f"start-{part}"]) for part in ("day", "month", "year"))
        return date(year, month, day)
    except (KeyError, ValueError):
        return None


def _clock(values: dict[str, str]) -> time | None:
    found = _TIME.fullmatch(values.get("time", ""))
    try:
        return time(int(found[1]), int(found[2])) if found else None
    except ValueError:
        return None


def read(form: FormData, receiver_choices: list[str]) -> tuple[BookIn | None, Answers]:
    """The booking the form describes, or None with the errors (in the form's order)."""
    values = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    answers = Answers(values)
    messages = _messages()
    body: dict[str, Any] = {}
    found: dict[str, str] = {}
    if values.get("receiver") not in receiver_choices:
        found["receiver"] = messages["receiver"]
    body["receiver"] = values.get("receiver", "")
    body["giver"] = values.get("giver", "").strip()
    day, clock = _day(values), _clock(values)
    if day is None:
        found["start"] = messages["start"]
    if clock is None:
        found["time"] = messages["time"]
    body["start"] = (
        int(datetime.combine(day, clock, tzinfo=TIMEZONE).timestamp()) if day and clock else None
    )
    body["duration_minutes"] = values.get("duration_minutes", "").strip()
    body["pot_id"] = values.get("pot_id", "").strip()
    for name in extra_fields():
        body[name] = values.get(name, "").strip()
    try:
        booking = BookIn.model_validate(body)
    except ValidationError as exc:
        booking = None
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else "giver"
            found.setdefault(name, messages.get(name, str(error["msg"])))
    order = ["receiver", "giver", "start", "time", *BookIn.model_fields]
    seen: set[str] = set()
    for name in order:
        if name in found and name not in seen:
            seen.add(name)
            answers.errors.append((anchor(name), found[name]))
    return (booking if not answers.errors else None), answers
