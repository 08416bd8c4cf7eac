"""API models for pooling demand into a draft tender and editing its lots."""

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AggregateRequest(Strict):
    """Which ``submitted`` demand to pool: all of it when nothing is given."""

    category: Code | None = None
    unit: Code | None = None
    needed_by_from: date | None = None
    needed_by_to: date | None = None
    title: Title | None = None


class LotMove(Strict):
    """Move one demand line: to lot ``to_lot`` (a number), to a ``"new"`` lot, or out (null)."""

    demand_id: int
    to_lot: Annotated[int, Field(ge=1)] | Literal["new"] | None


class LotEdit(Strict):
    moves: Annotated[list[LotMove], Field(min_length=1, max_length=10_000)]
