"""Amounts as banks write them ("1,234.56", "-12.50", "£3") to integer pennies.

Decimal from the text, never a float: a value with more than two decimal places is an
error, not rounded.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation


def pennies(text: str, *, unit: str = "pounds") -> int:
    """`text` in pounds (or pence when `unit="pence"`) as whole pennies; ValueError if not exact."""
    cleaned = text.strip().replace(",", "").replace("£", "").replace(" ", "")
    if cleaned.startswith("(") and cleaned.endswith(")"):  # accountants' negative
        cleaned = "-" + cleaned[1:-1]
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"not an amount: {text!r}") from None
    if not value.is_finite():
        raise ValueError(f"not an amount: {text!r}")
    scaled = value * 100 if unit == "pounds" else value
    if scaled != scaled.to_integral_value():
        raise ValueError(f"more than whole pennies: {text!r}")
    return int(scaled)


def pennies_from_decimal(value: Decimal) -> int:
    """A Decimal in pounds (as OFX parsers give it) as whole pennies; ValueError if not exact."""
    return pennies(str(value))
