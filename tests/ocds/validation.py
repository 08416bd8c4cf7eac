"""The product's OCDS validator (``lap_market.ocds.validation``) as a test assertion."""

from typing import Any

from lap_market.ocds.validation import problems

__all__ = ["assert_valid", "problems"]


def assert_valid(package: dict[str, Any]) -> None:
    """Fail with every problem listed if the package does not validate."""
    found = problems(package)
    assert not found, "OCDS package does not validate:\n" + "\n".join(found)
