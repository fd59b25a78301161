"""The booking-to-payment journey in a real browser: sign in on Keycloak's own login page,
book (the error summary first), the giver marks the visit delivered, the receiver
confirms, the giver is paid. With JavaScript on (axe on every page, screenshots), with
JavaScript off, and the booking by keyboard alone. Then the security checks: a form with
a missing or wrong CSRF token is 403 and changes nothing; another member's appointment by
its address is 404; sign-out ends the session.
"""

from __future__ import annotations

import re
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fixtures.cast import Cast
from fixtures.identity import UserFactory
from web.conftest import check_page

pytestmark = [pytest.mark.geth, pytest.mark.keycloak, pytest.mark.neo4j, pytest.mark.slow]
UK = ZoneInfo("Europe/London")
RATE_PENNIES = 1_250  # £12.50 an hour
MINUTES = 60
# An hour at £12.50 with the Commons Contribution at 17.5 % on top and 7.5 % off, by hand:
# price 1250 p; the pot pays 1250 + 218 (1250 x 0.175 = 218.75, floored) = 1468 p;
# the giver receives 1250 - 93 (93.75, floored) = 1157 p; the cooperative 311 p.
POT_PAYS, GIVER_RECEIVES, CONTRIBUTION = "£14.68", 1_157, "£3.11"


@pytest.fixture(scope="module")
def cast(live_gateway: Any, realm_users: UserFactory, identity_keycloak: Any) -> Cast:
    from eccoo.gateway.identity.realm import KeycloakAdmin

    base = live_gateway.url
    with KeycloakAdmin(identity_keycloak, "eccoo") as admin:  # this run's port, exactly
        client_id = admin.client_uuid("eccoo-web")
        rep = admin.call("GET", f"/clients/{client_id}").json()
        rep["redirectUris"] = sorted({*rep["redirectUris"], f"{base}/auth/callback"})
        rep["attributes"]["post.logout.redirect.uris"] = f"{base}/web/signed-out"
        admin.call("PUT", f"/clients/{client_id}", json=rep)
    people = {
        "coordinator": ("coordinator",),
        "treasurer": ("treasurer",),
        "receiver": (),
        "giver": (),
        "stranger": (),
    }
    cast = Cast(live_gateway, realm_users, people)
    cast.register({"receiver": "care_receiver", "giver": "care_giver"})
    cast.pot_id = cast.fund_pot("receiver", 100_000)  # type: ignore[attr-defined]
    cast.set_rate("giver", RATE_PENNIES)  # bookings are priced from the giver's own rate
    return cast


def sign_in(context: Any, base: str, person: Any, axe: str | None = None) -> Any:
    page = context.new_page()
    page.goto(f"{base}/web")
    if axe:
        check_page(page, axe, "welcome")
    page.get_by_role("button", name="Sign in").click()
    page.fill("#username", person.username)
    page.fill("#password", person.password)
    page.click("#kc-login")
    page.wait_for_url(f"{base}/web")
    assert page.get_by_role("heading", name="My care").is_visible()
    return page


def wait_until_done(page: Any) -> None:
    """The progress page refreshes itself until the ledger has recorded the change."""
    page.get_by_text("Done: the ledger has recorded it for good.").first.wait_for(timeout=90_000)


def fill_booking(page: Any, giver: str, pot_id: int) -> None:
    now = datetime.now(UK)
    page.fill("#giver", giver)
    page.fill("#start-day", str(now.day))
    page.fill("#start-month", str(now.month))
    page.fill("#start-year", str(now.year))
    page.fill("#time", now.strftime("%H:%M"))  # this minute: started already, within grace
    page.fill("#duration_minutes", str(MINUTES))
    page.fill("#pot_id", str(pot_id))


def newest_appointment(page: Any, base: str) -> int:
    page.goto(f"{base}/web/appointments")
    link = page.locator("table.govuk-table tbody tr").first.locator("a")
    return int(link.inner_text())


def journey(browser: Any, cast: Cast, base: str, axe: str | None) -> int:
    """Book, deliver, confirm; returns the appointment's id. `axe` None: JavaScript off."""
    options = {"java_script_enabled": axe is not None, "viewport": {"width": 1280, "height": 900}}
    receiver_ctx, giver_ctx = browser.new_context(**options), browser.new_context(**options)
    receiver = sign_in(receiver_ctx, base, cast.people["receiver"], axe)
    giver = sign_in(giver_ctx, base, cast.people["giver"])
    giver_before = int(cast.ledger.call("CareCoin", "balanceOf", cast.me["giver"]["address"]))
    if axe:
        check_page(receiver, axe, "home")

    receiver.get_by_role("link", name="Book support").first.click()
    receiver.get_by_role("button", name="Continue").click()  # nothing filled in
    summary = receiver.locator(".govuk-error-summary")
    assert summary.is_visible()
    assert summary.locator("a[href='#giver']").count() == 1
    assert receiver.title().startswith("Error:")
    if axe:
        check_page(receiver, axe, "book-errors")
    fill_booking(receiver, cast.me["giver"]["address"], cast.pot_id)  # type: ignore[attr-defined]
    if axe:
        check_page(receiver, axe, "book")
    receiver.get_by_role("button", name="Continue").click()
    # Before anything is sent: the price and the Commons Contribution as the chain computes.
    assert receiver.get_by_role("heading", name="Check the booking").is_visible()
    prices = receiver.locator(".govuk-summary-list").nth(1)
    assert prices.get_by_text(POT_PAYS).is_visible()
    assert prices.get_by_text("£11.57").is_visible()
    assert prices.get_by_text(CONTRIBUTION).is_visible()
    if axe:
        check_page(receiver, axe, "check-booking")
    receiver.get_by_role("button", name="Book", exact=True).click()
    assert "/web/transactions/" in receiver.url
    if axe:
        check_page(receiver, axe, "transaction-pending")
    wait_until_done(receiver)
    if axe:
        check_page(receiver, axe, "transaction-done")
    appointment_id = newest_appointment(receiver, base)
    if axe:
        check_page(receiver, axe, "appointments")

    giver.goto(f"{base}/web/appointments/{appointment_id}")
    if axe:
        check_page(giver, axe, "appointment-giver")
    giver.get_by_role("button", name="Mark delivered").click()
    wait_until_done(giver)

    receiver.goto(f"{base}/web/appointments/{appointment_id}")
    if axe:
        check_page(receiver, axe, "appointment-confirm")
    receiver.get_by_role("button", name="Confirm and pay").click()
    wait_until_done(receiver)

    deadline = time.monotonic() + 90
    while True:  # the payment is queued right behind the confirmation
        giver.goto(f"{base}/web/appointments/{appointment_id}")
        if giver.locator(".govuk-summary-list__value", has_text=re.compile("^paid$")).count():
            break
        assert time.monotonic() < deadline, giver.content()[:2000]
        time.sleep(1)
    paid_to_giver = giver.locator(".govuk-summary-list__row", has_text="Paid to the person")
    assert paid_to_giver.get_by_text("£11.57").is_visible()
    if axe:
        check_page(giver, axe, "appointment-paid")
    giver_after = int(cast.ledger.call("CareCoin", "balanceOf", cast.me["giver"]["address"]))
    assert giver_after == giver_before + GIVER_RECEIVES
    giver.goto(f"{base}/web")
    assert giver.get_by_text("£").first.is_visible()
    receiver_ctx.close()
    giver_ctx.close()
    return appointment_id


def test_the_journey_with_javascript(
    browser: Any, cast: Cast, live_gateway: Any, axe_source: str
) -> None:
    journey(browser, cast, live_gateway.url, axe_source)


def test_the_journey_without_javascript(browser: Any, cast: Cast, live_gateway: Any) -> None:
    journey(browser, cast, live_gateway.url, None)


def tab_to(page: Any, element_id: str, limit: int = 80) -> None:
    """Press Tab until `element_id` has the focus, and check the focus can be seen."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == element_id:
            style = page.evaluate(
                "(() => { const s = getComputedStyle(document.activeElement);"
                " return [s.outlineStyle, s.boxShadow]; })()"
            )
            assert style[0] != "none" or style[1] != "none", (element_id, style)
            return
    raise AssertionError(f"Tab never reached #{element_id}")


def test_booking_by_keyboard_alone(browser: Any, cast: Cast, live_gateway: Any) -> None:
    base = live_gateway.url
    context = browser.new_context()
    page = sign_in(context, base, cast.people["receiver"])
    page.goto(f"{base}/web/appointments/book")
    now = datetime.now(UK)
    answers = {
        "giver": cast.me["giver"]["address"],
        "start-day": str(now.day),
        "start-month": str(now.month),
        "start-year": str(now.year),
        "time": now.strftime("%H:%M"),
        "duration_minutes": "30",
        "pot_id": str(cast.pot_id),  # type: ignore[attr-defined]
    }
    for element_id, text in answers.items():
        tab_to(page, element_id)
        page.keyboard.type(text)
    page.keyboard.press("Tab")  # the Continue button
    assert page.evaluate("document.activeElement.textContent").strip() == "Continue"
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Check the booking").wait_for()
    for _ in range(80):  # on to the Book button, by Tab alone
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent").strip() == "Book":
            break
    else:
        raise AssertionError("Tab never reached the Book button")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/web/transactions/.*"))
    wait_until_done(page)
    context.close()


def queued_by(gateway: Any, subject: str) -> int:
    from eccoo.gateway.store.models import ChainTransaction
    from sqlalchemy import func, select

    with gateway.services.store.read() as session:
        query = select(func.count()).where(ChainTransaction.subject == subject)
        return int(session.scalar(query) or 0)


def test_csrf_and_other_members_appointments(
    browser: Any, cast: Cast, live_gateway: Any, axe_source: str
) -> None:
    base = live_gateway.url
    appointment_id = cast.book("receiver", "giver", cast.pot_id, wait_for_start=False)  # type: ignore[attr-defined]
    stranger_ctx = browser.new_context()
    stranger = sign_in(stranger_ctx, base, cast.people["stranger"])
    answer = stranger.goto(f"{base}/web/appointments/{appointment_id}")
    assert answer is not None and answer.status == 404
    check_page(stranger, axe_source, "not-found")

    # A session id planted before sign-in is not the one the sign-in uses (no fixation).
    receiver_ctx = browser.new_context()
    planted = {"name": "eccoo_session", "value": "planted-before-sign-in", "url": base}
    receiver_ctx.add_cookies([planted])
    receiver = sign_in(receiver_ctx, base, cast.people["receiver"])
    session = [c for c in receiver_ctx.cookies() if c["name"] == "eccoo_session"]
    assert len(session) == 1 and session[0]["value"] != planted["value"]
    assert session[0]["httpOnly"] and session[0]["sameSite"] == "Lax"
    receiver.goto(f"{base}/web/appointments/{appointment_id}")
    key = receiver.locator("form[action$='/cancel'] input[name=idempotency_key]").get_attribute(
        "value"
    )
    queued_before = queued_by(live_gateway, cast.me["receiver"]["subject"])
    for token in (None, "forged-token-that-is-long-enough"):
        form = {"idempotency_key": key or ""}
        if token is not None:
            form["csrf_token"] = token
        refused = receiver_ctx.request.post(
            f"{base}/web/appointments/{appointment_id}/cancel", form=form, max_redirects=0
        )
        assert refused.status == 403
    assert queued_by(live_gateway, cast.me["receiver"]["subject"]) == queued_before
    status = cast["receiver"].get(f"/api/v1/appointments/{appointment_id}").json()["status"]
    assert status == "booked"

    # Sign out: the session ends here and at the provider; its pages are gone.
    receiver.get_by_role("button", name="Sign out").click()
    receiver.wait_for_url(f"{base}/web/signed-out")
    check_page(receiver, axe_source, "signed-out")
    receiver.goto(f"{base}/web/appointments/{appointment_id}")
    assert receiver.url == f"{base}/web"
    assert receiver.get_by_role("heading", name="Welcome").is_visible()
    stranger_ctx.close()
    receiver_ctx.close()
