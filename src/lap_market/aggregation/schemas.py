"""API models for pooling demand into a draft tender and editing its lots."""

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints

from lap_market.frameworks.schemas import FrameworkTerms
from lap_market.primitives import BusinessDate, Id, Input

Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class Strict(Input):
    model_config = ConfigDict(extra="forbid")


class AggregateRequest(Strict, FrameworkTerms):
    """Which ``submitted`` demand to pool: all of it when nothing is given."""

    category: Code | None = None
    unit: Code | None = None
    needed_by_from: BusinessDate | None = None
    needed_by_to: BusinessDate | None = None
    title: Title | None = None


class LotMove(Strict):
    """Move one demand line: to lot ``to_lot`` (a number), to a ``"new"`` lot, or out (null)."""

    demand_id: Id
    to_lot: Id | Literal["new"] | None


class LotEdit(Strict):
    moves: Annotated[list[LotMove], Field(min_length=1, max_length=10_000)]
