"""A tender's framework terms, set when it is pooled or while it is a draft."""

from datetime import date

from lap_market.frameworks import policy
from lap_market.frameworks.schemas import FrameworkTerms
from lap_market.tenders.models import Tender

FIELDS = ("procedure", "framework_max_suppliers", "framework_end", "framework_weight_range")


def apply(tender: Tender, terms: FrameworkTerms, today: date) -> dict[str, object]:
    """Set the terms given (``None`` leaves one as it is) and check them; what changed."""
    changed: dict[str, object] = {}
    for name in FIELDS:
        value = getattr(terms, name)
        if value is not None and getattr(tender, name) != value:
            setattr(tender, name, value)
            changed[name] = value
    policy.check_terms(tender, today)
    return changed
