"""Matching bank lines to the chain's mints and burns, and the treasurer's decisions on them.

A match links a bank line to one or more movements; linked lines and movements form a
group, and a group balances when its bank lines and its movements add up to the same
pennies. Line states follow: unmatched (no link), matched (linked, not balanced), cleared
(balanced), reconciled (cleared and accepted by a treasurer). Every decision is recorded
with who and when. Nothing here reads the chain or changes a locked month.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from eccoo.client.reconcile import reference_hash
from eccoo.treasury.book import Book, now_utc
from eccoo.treasury.errors import InvalidDecision, PeriodLocked, UnknownRecord

STATES = ("unmatched", "matched", "cleared", "reconciled")


@dataclass(frozen=True)
class Suggestion:
    line_id: int
    movement_id: int
    why: str  # "same reference" or "same amount within N days"


@dataclass
class LineState:
    id: int
    booked_on: str
    period: str
    amount: int
    reference: str
    state: str
    movements: list[int] = field(default_factory=list)
    difference: int = 0  # bank minus chain across the line's group; 0 once cleared


def _references(text: str) -> set[str]:
    """The bytes32 hex a bank reference may stand for: the whole text, or any one word
    (banks add the payer's name around the reference)."""
    words = {text.strip(), *re.split(r"[\s,;/]+", text.strip())}
    return {"0x" + reference_hash(w).hex() for w in words if w}


def _groups(book: Book) -> tuple[dict[int, set[int]], dict[int, set[int]]]:
    """Links as line -> movements and movement -> lines."""
    by_line: dict[int, set[int]] = defaultdict(set)
    by_movement: dict[int, set[int]] = defaultdict(set)
    for row in book.db.execute("SELECT line_id, movement_id FROM links"):
        by_line[row["line_id"]].add(row["movement_id"])
        by_movement[row["movement_id"]].add(row["line_id"])
    return by_line, by_movement


def _component(
    line_id: int, by_line: dict[int, set[int]], by_movement: dict[int, set[int]]
) -> tuple[set[int], set[int]]:
    lines, movements, todo = {line_id}, set[int](), [line_id]
    while todo:
        for movement in by_line.get(todo.pop(), set()):
            if movement not in movements:
                movements.add(movement)
                fresh = by_movement[movement] - lines
                lines |= fresh
                todo.extend(fresh)
    return lines, movements


def line_states(book: Book, period: str | None = None) -> list[LineState]:
    """Every bank line (of `period`, if given) with its state."""
    by_line, by_movement = _groups(book)
    amounts_l = {r["id"]: r["amount"] for r in book.db.execute("SELECT id, amount FROM bank_lines")}
    amounts_m = {r["id"]: r["amount"] for r in book.db.execute("SELECT id, amount FROM movements")}
    rows = book.db.execute(
        "SELECT * FROM bank_lines WHERE ? IS NULL OR period = ? ORDER BY id", (period, period)
    )
    states = []
    for row in rows:
        lines, movements = _component(row["id"], by_line, by_movement)
        difference = sum(amounts_l[i] for i in lines) - sum(amounts_m[m] for m in movements)
        if row["reconciled_at"]:
            state = "reconciled"
        elif not movements:
            state = "unmatched"
        else:
            state = "cleared" if difference == 0 else "matched"
        states.append(
            LineState(
                row["id"],
                row["booked_on"],
                row["period"],
                row["amount"],
                row["reference"],
                state,
                sorted(by_line.get(row["id"], ())),
                difference if movements else row["amount"],
            )
        )
    return states


def _open_line(book: Book, line_id: int) -> dict[str, object]:
    row = book.db.execute("SELECT * FROM bank_lines WHERE id = ?", (line_id,)).fetchone()
    if row is None:
        raise UnknownRecord(f"no bank line {line_id} in the book", field="line")
    if book.locked(row["period"]):
        raise PeriodLocked(
            f"bank line {line_id} is in {row['period']}, which is locked; "
            "record a correction in an open month",
            field="line",
        )
    if row["reconciled_at"]:
        raise InvalidDecision(f"bank line {line_id} is already reconciled", field="line")
    return dict(row)


def _money_movement(book: Book, movement_id: int) -> dict[str, object]:
    row = book.db.execute("SELECT * FROM movements WHERE id = ?", (movement_id,)).fetchone()
    if row is None or row["kind"] not in ("mint", "burn"):
        raise UnknownRecord(f"no mint or burn {movement_id} in the book", field="movement")
    if book.locked(row["period"]):
        raise PeriodLocked(
            f"movement {movement_id} is in {row['period']}, which is locked", field="movement"
        )
    reconciled = book.db.execute(
        "SELECT l.id FROM links k JOIN bank_lines l ON l.id = k.line_id "
        "WHERE k.movement_id = ? AND l.reconciled_at IS NOT NULL",
        (movement_id,),
    ).fetchone()
    if reconciled is not None:
        raise InvalidDecision(
            f"movement {movement_id} belongs to reconciled line {reconciled['id']}",
            field="movement",
        )
    return dict(row)


def _link(book: Book, line_id: int, movement_id: int, how: str, who: str) -> None:
    book.db.execute(
        "INSERT OR IGNORE INTO links (line_id, movement_id, how, linked_by, linked_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (line_id, movement_id, how, who, now_utc()),
    )
    book.record(who, how, line_id=line_id, movement_id=movement_id)


def auto_match(book: Book, who: str) -> int:
    """Links each unmatched line to the one free movement with its reference and amount."""
    linked = 0
    with book.transaction() as db:
        free = [
            dict(r)
            for r in db.execute(
                "SELECT m.* FROM movements m WHERE m.kind IN ('mint', 'burn') AND NOT EXISTS "
                "(SELECT 1 FROM links k WHERE k.movement_id = m.id) AND NOT EXISTS "
                "(SELECT 1 FROM periods p WHERE p.period = m.period) ORDER BY m.id"
            )
        ]
        for state in line_states(book):
            if state.state != "unmatched" or book.locked(state.period):
                continue
            refs = _references(state.reference)
            found = next(
                (m for m in free if m["ref"] in refs and m["amount"] == state.amount), None
            )
            if found is not None:
                free.remove(found)
                _link(book, state.id, found["id"], "auto-match", who)
                linked += 1
    return linked


def suggestions(book: Book, *, days: int, period: str | None = None) -> list[Suggestion]:
    """For each unmatched line: mints and burns with its reference that are not yet fully
    paid (any amount: a short payment's balance), or free ones with its amount within
    `days` days. Suggestions a treasurer rejected are not offered again."""
    candidates = [
        dict(r)
        for r in book.db.execute(
            "SELECT m.*, EXISTS (SELECT 1 FROM links k WHERE k.movement_id = m.id) AS linked "
            "FROM movements m WHERE kind IN ('mint', 'burn') AND NOT EXISTS (SELECT 1 FROM "
            "links k JOIN bank_lines l ON l.id = k.line_id WHERE k.movement_id = m.id AND "
            "l.reconciled_at IS NOT NULL) ORDER BY id"
        )
    ]
    states = line_states(book)
    settled = {m for s in states if s.state != "matched" for m in s.movements}
    rejected = {
        (r["line_id"], r["movement_id"]) for r in book.db.execute("SELECT * FROM rejections")
    }
    found = []
    for state in states:
        if state.state != "unmatched" or (period and state.period != period):
            continue
        refs, day = _references(state.reference), date.fromisoformat(state.booked_on)
        for m in candidates:
            if (state.id, m["id"]) in rejected or m["id"] in settled:
                continue
            if m["ref"] in refs:
                found.append(Suggestion(state.id, m["id"], "same reference"))
            elif (
                not m["linked"]
                and m["amount"] == state.amount
                and (abs((date.fromisoformat(m["booked_on"]) - day).days) <= days)
            ):
                found.append(Suggestion(state.id, m["id"], f"same amount within {days} days"))
    return found


def confirm(book: Book, line_id: int, movement_ids: list[int], who: str) -> None:
    """Links a line to the movement(s) a treasurer chose (a suggestion, or found by hand).
    The amounts need not agree: a short payment stays `matched` until it is made good."""
    if not movement_ids:
        raise InvalidDecision("name at least one movement to match", field="movement")
    with book.transaction():
        _open_line(book, line_id)
        for movement_id in movement_ids:
            _money_movement(book, movement_id)
            _link(book, line_id, movement_id, "confirm", who)


def split(book: Book, line_id: int, movement_ids: list[int], who: str) -> None:
    """Splits one bank line across several movements whose amounts add up to it exactly."""
    if len(set(movement_ids)) < 2:
        raise InvalidDecision("a split needs two or more movements", field="movement")
    with book.transaction():
        line = _open_line(book, line_id)
        total = sum(int(str(_money_movement(book, m)["amount"])) for m in movement_ids)
        if total != line["amount"]:
            raise InvalidDecision(
                f"the movements add up to {total} pennies, the bank line "
                f"{line_id} to {line['amount']}",
                field="movement",
            )
        for movement_id in movement_ids:
            _link(book, line_id, movement_id, "split", who)


def reject(book: Book, line_id: int, movement_id: int, who: str, reason: str = "") -> None:
    """Undoes a match, or turns down a suggestion so it is not offered again."""
    with book.transaction() as db:
        _open_line(book, line_id)
        db.execute(
            "DELETE FROM links WHERE line_id = ? AND movement_id = ?", (line_id, movement_id)
        )
        db.execute(
            "INSERT OR IGNORE INTO rejections (line_id, movement_id) VALUES (?, ?)",
            (line_id, movement_id),
        )
        book.record(who, "reject", line_id=line_id, movement_id=movement_id, detail=reason)


def reconcile_cleared(
    book: Book, period: str, who: str, line_ids: list[int] | None = None
) -> list[int]:
    """Accepts cleared lines of `period` (all, or those named) as reconciled, each with the
    other lines of its group, so a reconciled group can never be taken apart."""
    if book.locked(period):
        raise PeriodLocked(f"{period} is locked; nothing in it changes", field="period")
    with book.transaction() as db:
        states = {s.id: s for s in line_states(book, period)}
        chosen = (
            line_ids
            if line_ids is not None
            else [i for i, s in states.items() if s.state == "cleared"]
        )
        by_line, by_movement = _groups(book)
        done: list[int] = []
        for line_id in chosen:
            state = states.get(line_id)
            if state is None:
                raise UnknownRecord(f"no bank line {line_id} in {period}", field="line")
            if state.state == "reconciled" and line_id in done:
                continue
            if state.state != "cleared":
                raise InvalidDecision(
                    f"bank line {line_id} is {state.state}, not cleared "
                    f"(bank minus chain: {state.difference})",
                    field="line",
                )
            group, _ = _component(line_id, by_line, by_movement)
            for member in sorted(group - set(done)):
                db.execute(
                    "UPDATE bank_lines SET reconciled_at = ?, reconciled_by = ? WHERE id = ?",
                    (now_utc(), who, member),
                )
                book.record(who, "reconcile", line_id=member, period=period)
                done.append(member)
            for member in group:  # the rest of the group is no longer merely cleared
                if member in states:
                    states[member].state = "reconciled"
    return done
