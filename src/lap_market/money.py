"""Exact money: integer pence in storage, Decimal in Python, strings in JSON."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer

PENNY = Decimal("0.01")
VAT_RATE = Decimal("0.20")


def round_pennies(amount: Decimal) -> Decimal:
    """Round half-up to the penny."""
    return amount.quantize(PENNY, rounding=ROUND_HALF_UP)


def to_pence(amount: Decimal) -> int:
    """Pounds (exact to the penny) to integer pence."""
    return int(round_pennies(amount) * 100)


def from_pence(pence: int) -> Decimal:
    """Integer pence to pounds with two places."""
    return (Decimal(pence) / 100).quantize(PENNY)


def vat_on(value: Decimal) -> Decimal:
    """VAT at the standard rate, rounded half-up to the penny."""
    return round_pennies(value * VAT_RATE)


def format_gbp(amount: Decimal | None) -> str:
    """£1,234.50 for people."""
    if amount is None:
        return "—"
    sign = "-" if amount < 0 else ""
    return f"{sign}£{abs(amount):,.2f}"


def parse_decimal(value: object, *, example: str) -> Decimal:
    """An exact decimal with at most two places, from a string, int or Decimal (never a float)."""
    if isinstance(value, float):
        raise ValueError(f'must be a decimal string such as "{example}", not a float')
    if isinstance(value, bool):
        raise ValueError("must be a number")
    if isinstance(value, Decimal):
        amount = value
    else:
        try:
            amount = Decimal(str(value).strip())
        except InvalidOperation as exc:
            raise ValueError(f'must be a number such as "{example}"') from exc
    if not amount.is_finite():
        raise ValueError("must be a finite number")
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise ValueError("must have at most 2 decimal places")
    return amount


def parse_money(value: object) -> Decimal:
    """An amount with at most two decimal places, from a string or number (not a float)."""
    amount = parse_decimal(value, example="12.50")
    if abs(amount) >= Decimal("1e12"):
        raise ValueError("is too large")
    return amount.quantize(PENNY)


# A money field for API models: accepts "12.50" (or an int), emits "12.50".
Money = Annotated[
    Decimal,
    BeforeValidator(parse_money),
    PlainSerializer(lambda v: f"{v:.2f}", return_type=str, when_used="json"),
]
