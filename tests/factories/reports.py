"""Contracts for the savings report, written directly as the contracts service would leave
them (the report reads only these rows)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import count

from sqlmodel import Session, select

from lap_market.accounts.models import Organisation, User
from lap_market.catalogue.models import Category, CategoryUnit
from lap_market.clock import clock
from lap_market.contracts.models import Contract, ContractKind
from lap_market.money import round_pennies, to_pence, vat_on

_seq = count(1)


def contract(
    session: Session,
    *,
    buyer: Organisation,
    supplier: Organisation,
    issued_by: User,
    value: str,
    standalone: str | None,
    category: str = "storage",
    unit: str | None = None,
    quantity: str = "10",
    issued_at: datetime | None = None,
) -> Contract:
    """A call-off worth ``value`` (ex VAT) whose standalone snapshot is ``standalone``
    (None: no reference rate). Flushed, not committed."""
    cat = session.exec(select(Category).where(Category.code == category)).one()
    units = select(CategoryUnit).where(CategoryUnit.category_id == cat.id)
    if unit is not None:
        units = units.where(CategoryUnit.code == unit)
    cat_unit = session.exec(units.order_by(CategoryUnit.id)).first()
    assert cat_unit is not None
    amount = Decimal(value)
    qty = Decimal(quantity)
    issued = issued_at or clock.now()
    start = issued.astimezone(UTC).date()
    row = Contract(
        reference=f"LAP-TEST-{next(_seq):05d}",
        kind=ContractKind.CALL_OFF,
        buyer_id=buyer.id,  # type: ignore[arg-type]
        supplier_id=supplier.id,  # type: ignore[arg-type]
        category_id=cat.id,  # type: ignore[arg-type]
        unit_id=cat_unit.id,  # type: ignore[arg-type]
        description=f"{cat.name} for {buyer.name}",
        quantity=qty,
        unit_price_pence=to_pence(round_pennies(amount / qty)),
        value_pence=to_pence(amount),
        vat_pence=to_pence(vat_on(amount)),
        total_pence=to_pence(amount + vat_on(amount)),
        standalone_value_pence=to_pence(Decimal(standalone)) if standalone is not None else None,
        start_date=start,
        end_date=start + timedelta(days=364),
        issued_at=issued,
        issued_by_id=issued_by.id,  # type: ignore[arg-type]
    )
    session.add(row)
    session.flush()
    return row
