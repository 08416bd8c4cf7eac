"""Imports every table module so SQLModel's metadata (and Alembic) sees the whole schema."""


def import_all_models() -> None:
    """Register every table on the shared metadata."""
    from lap_market.accounts import models as _accounts  # noqa: F401
    from lap_market.audit import models as _audit  # noqa: F401
    from lap_market.catalogue import models as _catalogue  # noqa: F401
    from lap_market.contract_management import models as _contract_management  # noqa: F401
    from lap_market.contracts import models as _contracts  # noqa: F401
    from lap_market.demand import models as _demand  # noqa: F401
    from lap_market.frameworks import models as _frameworks  # noqa: F401
    from lap_market.jobs import models as _jobs  # noqa: F401
    from lap_market.mail import models as _mail  # noqa: F401
    from lap_market.notifications import models as _notifications  # noqa: F401
    from lap_market.rounds import models as _rounds  # noqa: F401
    from lap_market.tenders import models as _tenders  # noqa: F401
