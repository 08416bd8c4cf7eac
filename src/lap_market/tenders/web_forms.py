"""What the tender pages share: London-time form fields, the workspace's form models, and
forms whose fields carry a prefix so several of them can sit on one page."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field
from sqlmodel import Session

from lap_market.clock import LONDON, format_london, in_london
from lap_market.modeling import pk
from lap_market.money import Money, from_pence
from lap_market.primitives import BusinessDateTime, Input, LongText
from lap_market.tenders.models import Award, Bid, Lot
from lap_market.tenders.schemas import (
    QUALITY_STATEMENT_MAX,
    REASON_MAX,
    TEXT_MAX,
    AmendmentCreate,
    AnswerCreate,
    BidIn,
    EvaluationRow,
    LotRead,
    QuestionCreate,
    QuestionRead,
    TenderUpdate,
)


def london_input(value: datetime | None) -> str:
    """A stored UTC time as a ``datetime-local`` value in London time."""
    if value is None:
        return ""
    return in_london(value).strftime("%Y-%m-%dT%H:%M")


def parse_local(value: str) -> str | None:
    """A ``datetime-local`` value (London time) as an ISO UTC string."""
    value = value.strip()
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value  # the schema names the field and the problem
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LONDON)
    try:
        return moment.astimezone(UTC).isoformat()
    except OverflowError:
        return value  # near year 1 or 9999: the schema's range check names the field


def supplier_names(session: Session, awards: dict[int, Award]) -> dict[int, str]:
    """Names of the awarded suppliers, by organisation id (``lot_awards`` loads them)."""
    return {a.supplier_id: a.supplier.name for a in awards.values()}


def _local(value: object) -> object:
    return parse_local(value) if isinstance(value, str) else value


# A ``datetime-local`` field: typed as London time, stored as UTC.
LondonDateTime = Annotated[BusinessDateTime, BeforeValidator(_local)]


class TenderDetailsForm(Input):
    """The workspace's details form; ``intent`` is the button pressed (save, or publish)."""

    model_config = ConfigDict(extra="ignore")

    title: str | None = Field(default=None, max_length=200)
    description: LongText | None = Field(default=None, max_length=20_000)
    price_weight: int | None = Field(default=None, ge=0, le=100)
    quality_weight: int | None = Field(default=None, ge=0, le=100)
    clarification_deadline: LondonDateTime | None = None
    submission_deadline: LondonDateTime | None = None
    intent: Literal["save", "publish"] = "save"

    def update(self) -> TenderUpdate:
        """The change to save. A blank title is kept (as "") so the service refuses it by
        name instead of the form silently keeping the old one."""
        given = self.model_dump(exclude_unset=True, exclude={"intent"})
        given["title"] = (self.title or "").strip()
        return TenderUpdate.model_construct(**given)


class LotScoresForm(Input):
    """One lot's "Save scores" form: a ``quality_<bid id>`` field per bid."""

    model_config = ConfigDict(extra="allow")

    def scores(self) -> dict[str, str]:
        """Typed scores by bid public id (blank boxes were dropped: those bids stay unscored)."""
        extra = self.model_extra or {}
        return {
            name.removeprefix("quality_"): str(value)
            for name, value in extra.items()
            if name.startswith("quality_")
        }


def lot_label(lot: Lot) -> str:
    """A lot as people know it: "Lot 1: Archive storage"."""
    return f"Lot {lot.number}: {lot.title}"


def bid_receipt(bid: Bid, lot: Lot, created: bool) -> str:
    """What a provider is told after bidding: when it arrived (London time), for which lot,
    at what price."""
    verb = "received" if created else "replaced"
    return (
        f"Your bid for {lot_label(lot)} was {verb} at {format_london(bid.updated_at)}: "
        f"£{from_pence(bid.unit_price_pence):,.2f} per unit, ex VAT. It stays sealed until the "
        "submission deadline."
    )


def quality_number(value: Decimal | None) -> str:
    return "" if value is None else f"{value:g}"


def _required(message: str) -> Any:
    """A validator that refuses a blank box with ``message`` (forms drop blank fields, so
    pydantic alone would only say "Field required")."""

    def check(value: str | None) -> str:
        if value is None or not value.strip():
            raise ValueError(message)
        return value

    return AfterValidator(check)


def _required_price() -> Any:
    def check(value: Decimal | None) -> Decimal:
        if value is None:
            raise ValueError("Enter your unit price in pounds, for example 12.50.")
        return value

    return AfterValidator(check)


class ReasonForm(Input):
    """A written reason (cancel, revoke, unsuccessful); a blank one gets the service's words."""

    model_config = ConfigDict(extra="ignore")

    reason: LongText | None = Field(default=None, max_length=REASON_MAX)

    def text(self) -> str:
        return self.reason or ""


class AmendmentForm(Input):
    """The amendment form: deadlines typed as London time."""

    model_config = ConfigDict(extra="ignore")

    reason: Annotated[LongText | None, _required("Give the reason for the amendment.")] = Field(
        default=None, max_length=REASON_MAX, validate_default=True
    )
    clarification_deadline: LondonDateTime | None = None
    submission_deadline: LondonDateTime | None = None
    description: LongText | None = Field(default=None, max_length=20_000)

    def create(self) -> AmendmentCreate:
        return AmendmentCreate.model_validate(self.model_dump(exclude_unset=True))


class QuestionForm(Input):
    model_config = ConfigDict(extra="ignore")

    question: Annotated[LongText | None, _required("Enter your question.")] = Field(
        default=None, max_length=TEXT_MAX, validate_default=True
    )

    def create(self) -> QuestionCreate:
        return QuestionCreate(question=self.question or "")


class AnswerForm(Input):
    model_config = ConfigDict(extra="ignore")

    answer: Annotated[LongText | None, _required("Enter the answer.")] = Field(
        default=None, max_length=TEXT_MAX, validate_default=True
    )

    def create(self) -> AnswerCreate:
        return AnswerCreate(answer=self.answer or "")


class BidForm(Input):
    """A provider's bid for one lot (its fields carry the lot's prefix on the page)."""

    model_config = ConfigDict(extra="ignore")

    unit_price: Annotated[Money | None, _required_price()] = Field(
        default=None, validate_default=True
    )
    quality_statement: Annotated[
        LongText | None, _required("Enter your quality statement.")
    ] = Field(default=None, max_length=QUALITY_STATEMENT_MAX, validate_default=True)

    def create(self) -> BidIn:
        assert self.unit_price is not None and self.quality_statement is not None
        return BidIn(unit_price=self.unit_price, quality_statement=self.quality_statement)


def workspace_labels(
    lots: list[Lot], evaluations: dict[int, list[EvaluationRow]], questions: list[QuestionRead]
) -> dict[str, str]:
    """The error summary's names for the workspace's fields, as the officer knows them."""
    labels = {
        "title": "Title",
        "lots": "Lots",
        "price_weight": "Weights",
        "amend_reason": "Reason for the amendment",
        "amend_clarification_deadline": "New clarification deadline",
        "amend_submission_deadline": "New submission deadline",
    }
    for number, q in enumerate(questions, start=1):
        labels[f"answer_{q.id}_answer"] = f"Answer to question {number}"
    for lot in lots:
        labels[f"unsuccessful_{lot.id}_reason"] = f"Why lot {lot.number} is unsuccessful"
        for row in evaluations.get(pk(lot), []):
            labels[f"quality_{row.bid_id}"] = f"Lot {lot.number}"
    return labels


def bid_labels(lots: list[LotRead]) -> dict[str, str]:
    """The error summary's names for an opportunity's bid forms: "Lot 1 unit price"."""
    labels = {"question": "Your question"}
    for lot in lots:
        labels[f"bid_{lot.id}_unit_price"] = f"Lot {lot.number} unit price"
        labels[f"bid_{lot.id}_quality_statement"] = f"Lot {lot.number} quality statement"
        labels[f"bid_{lot.id}_form"] = f"Lot {lot.number}"
    return labels
