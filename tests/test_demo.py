"""The demo data is realistic, complete across the domains, and idempotent."""

import hashlib

from sqlmodel import Session, func, select

from lap_market.catalogue.models import Category, Offer
from lap_market.contracts.models import Contract, ContractDocument
from lap_market.demand.models import Demand
from lap_market.demo import load_demo
from lap_market.tenders.models import Tender


def _snapshot(session: Session) -> dict[str, object]:
    def count(model) -> int:  # type: ignore[no-untyped-def]
        return int(session.exec(select(func.count()).select_from(model)).one())

    return {
        "offers": count(Offer), "demand": count(Demand), "tenders": count(Tender),
        "contracts": count(Contract),
        "demand_by_status": dict(session.exec(
            select(Demand.status, func.count()).group_by(Demand.status)).all()),
        "tenders_by_status": dict(session.exec(
            select(Tender.status, func.count()).group_by(Tender.status)).all()),
    }


def test_demo_loads_every_domain_and_is_idempotent(app):
    with Session(app.state.engine) as session:
        load_demo(session)
        session.commit()
        first = _snapshot(session)
        load_demo(session)
        session.commit()
        assert _snapshot(session) == first

        categories = session.exec(
            select(Category.code).join(Offer, Offer.category_id == Category.id)
            .where(Offer.status == "published").distinct()).all()
        assert set(categories) == {"storage", "conservation", "digitisation", "training"}
        assert session.exec(select(func.count(func.distinct(Demand.borough_id)))).one() >= 12
        assert first["demand_by_status"].get("submitted", 0) > 0  # the pipeline has work
        assert {"published", "awarded", "contracted"} <= set(first["tenders_by_status"])
        kinds = set(session.exec(select(Contract.kind)).all())
        assert kinds == {"call_off", "direct"}
        latest: dict[int, ContractDocument] = {}
        for document in session.exec(select(ContractDocument)).all():
            assert document.content.startswith(b"%PDF")
            assert hashlib.sha256(document.content).hexdigest() == document.sha256
            if document.contract_id not in latest or document.version > latest[document.contract_id].version:
                latest[document.contract_id] = document
        for contract in session.exec(select(Contract)).all():
            assert latest[contract.id].sha256 == contract.pdf_sha256
