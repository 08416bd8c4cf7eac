"""API models for pooling demand into a draft tender and editing its lots."""

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from lap_market.frameworks.schemas import FrameworkTerms
from lap_market.primitives import BusinessDate, Code, Id, Strict, Title


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


class EditorForm(Strict):
    """The lot editor's form: beside each line a ``move-<id>`` choice and its
    ``current-<id>`` lot number. A line whose choice differs from its current lot moves:
    to that lot number, to ``new``, or ``out`` of the draft. No change is no move."""

    moves: Annotated[list[LotMove], Field(max_length=10_000)]

    @model_validator(mode="before")
    @classmethod
    def _from_form(cls, form: Any) -> Any:
        if not isinstance(form, dict) or "moves" in form:
            return form
        moves = []
        for key, value in form.items():
            line = key.removeprefix("move-")
            if line == key or value == form.get(f"current-{line}"):
                continue
            moves.append({"demand_id": line, "to_lot": None if value == "out" else value})
        return {"moves": moves}

    def as_edit(self) -> LotEdit:
        return LotEdit(moves=self.moves)
