"""The member pages' building blocks without a browser: en-GB money and dates, the English
catalogue holds every string the pages say, the booking form reads `BookIn` and names the
bad field, the brand colour's contrast, and every page template compiles with escaping on.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po
from eccoo.gateway.web import booking_form
from eccoo.gateway.web.render import CATALOGUE, ENVIRONMENT, TEMPLATES, date_time, money
from starlette.datastructures import FormData

WEB = Path(booking_form.__file__).parent
RECEIVER = "0x" + "11" * 20
GIVER = "0x1111111111111111111111111111111111111112"


def test_money_is_pounds_from_integer_pennies() -> None:
    assert money(1250) == "£12.50"
    assert money(5) == "£0.05"
    assert money(123456789) == "£1,234,567.89"


def test_dates_are_uk_time_in_words() -> None:
    assert date_time(1_800_000_000) == "15 January 2027 at 08:00"
    assert date_time(1_810_000_000) == "11 May 2027 at 02:46"  # 01:46 UTC, in summer time


def test_the_catalogue_holds_every_string(tmp_path: Path) -> None:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_",
            "-k",
            "gettext",
            "-o",
            str(pot),
            ".",
        ],
        cwd=WEB,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as extracted, CATALOGUE.open("rb") as committed:
        wanted = {m.id for m in read_po(extracted) if m.id}
        have = {m.id for m in read_po(committed) if m.id}
    assert wanted - have == set(), "re-extract the catalogue (gateway/web/babel.cfg)"


def test_every_template_compiles_with_escaping() -> None:
    for template in TEMPLATES.glob("*.html"):
        ENVIRONMENT.get_template(template.name)
    html = ENVIRONMENT.get_template("message.html").render(
        title="<i>x</i>",
        paragraphs=["<b>"],
        next_href="",
        next_label="",
        path="/web",
        signed_in=False,
        csrf_token="",
    )
    assert "<i>x</i>" not in html and "&lt;i&gt;x&lt;/i&gt;" in html
    assert "<b>" not in html and "&lt;b&gt;" in html


def _form(**values: str) -> FormData:
    base = {
        "receiver": RECEIVER,
        "giver": GIVER,
        "start-day": "27",
        "start-month": "3",
        "start-year": "2027",
        "time": "14:30",
        "duration_minutes": "90",
        "pot_id": "3",
    }
    return FormData({**base, **values})


def test_the_booking_form_makes_the_api_booking() -> None:
    booking, answers = booking_form.read(_form(), [RECEIVER])
    assert answers.errors == []
    assert booking is not None
    assert booking.duration_minutes == 90 and booking.pot_id == 3
    assert booking.start == 1_806_157_800  # 27 March 2027 14:30 GMT (summer time starts the 28th)


def test_the_booking_form_names_each_bad_field_in_order() -> None:
    booking, answers = booking_form.read(
        _form(giver="0xabc", **{"start-day": "31", "start-month": "2"}, duration_minutes="1.5"),
        [RECEIVER],
    )
    assert booking is None
    assert [field for field, _ in answers.errors] == ["giver", "start-day", "duration_minutes"]
    booking, answers = booking_form.read(_form(receiver=GIVER), [RECEIVER])
    assert [field for field, _ in answers.errors] == ["receiver"]


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_the_brand_colour_reaches_aaa_contrast_with_white() -> None:
    scss = (WEB / "assets" / "eccoo.scss").read_text()
    brand = scss.split("$govuk-brand-colour:")[1].split(";")[0].strip()
    ratio = (1.05) / (_luminance(brand) + 0.05)
    assert ratio >= 7, ratio
