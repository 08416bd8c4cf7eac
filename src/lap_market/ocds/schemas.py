"""The part of OCDS 1.1 (with the lots extension) that LAP Market publishes.

Field names follow the standard (camelCase in JSON). Amounts and quantities stay
``Decimal`` in Python and are written as JSON *numbers*, as OCDS requires: the text of the
number is exactly the decimal (see ``json_number``), never a rounded float.
"""

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer
from pydantic.alias_generators import to_camel

# The largest number of significant digits a binary double carries through repr() unchanged.
_EXACT_DIGITS = 15


def json_number(value: Decimal) -> int | float:
    """A Decimal as a JSON number whose text is exactly the decimal.

    Python writes a float as the shortest text that reads back as the same float, so any
    decimal of at most 15 significant digits (money to the penny below 10^13) comes out as
    written. Anything longer is refused rather than silently rounded.
    """
    if value == value.to_integral_value():
        return int(value)
    digits = len(value.normalize().as_tuple().digits)
    number = float(value)
    if digits > _EXACT_DIGITS or Decimal(repr(number)) != value:
        raise ValueError(f"{value} cannot be written exactly as a JSON number")
    return number


# A Decimal that the API writes as a JSON number (amounts, quantities).
OcdsNumber = Annotated[Decimal, PlainSerializer(json_number, return_type=float, when_used="json")]


class OcdsModel(BaseModel):
    """Base: camelCase names in JSON; empty (None) fields are left out by the routes."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class Value(OcdsModel):
    amount: OcdsNumber
    currency: str = "GBP"


class Period(OcdsModel):
    start_date: datetime | None = None
    end_date: datetime | None = None


class Identifier(OcdsModel):
    scheme: str
    id: str
    legal_name: str | None = None
    uri: str | None = None


class OrganizationReference(OcdsModel):
    id: str
    name: str


class Organization(OcdsModel):
    id: str
    name: str
    identifier: Identifier | None = None
    additional_identifiers: list[Identifier] | None = None
    roles: list[str]


class Classification(OcdsModel):
    scheme: str
    id: str
    description: str


class Unit(OcdsModel):
    name: str
    value: Value | None = None


class Item(OcdsModel):
    id: str
    description: str
    classification: Classification
    quantity: OcdsNumber
    unit: Unit
    related_lot: str | None = None


class Lot(OcdsModel):
    id: str
    title: str
    status: str
    value: Value | None = None


class Amendment(OcdsModel):
    id: str
    date: datetime
    rationale: str
    description: str | None = None
    amends_release_id: str | None = Field(default=None, alias="amendsReleaseID")
    release_id: str | None = Field(default=None, alias="releaseID")


class Techniques(OcdsModel):
    """The techniques extension (core in OCDS 1.2): here, only whether it sets up a framework."""

    has_framework_agreement: bool


class RelatedProcess(OcdsModel):
    id: str
    relationship: list[str]
    title: str | None = None
    scheme: str = "ocid"
    identifier: str


class Tender(OcdsModel):
    id: str
    title: str
    description: str | None = None
    status: str
    # Not in the 1.1 core schema (it arrives in 1.2); additional fields are allowed.
    status_details: str | None = None
    procuring_entity: OrganizationReference
    items: list[Item]
    value: Value | None = None
    procurement_method: str = "open"
    main_procurement_category: str = "services"
    tender_period: Period | None = None
    enquiry_period: Period | None = None
    contract_period: Period | None = None
    has_enquiries: bool | None = None
    number_of_tenderers: int | None = None
    tenderers: list[OrganizationReference] | None = None
    lots: list[Lot]
    amendments: list[Amendment] | None = None
    techniques: Techniques | None = None


class Award(OcdsModel):
    id: str
    title: str
    status: str
    date: datetime
    value: Value | None = None
    suppliers: list[OrganizationReference]
    items: list[Item]
    contract_period: Period | None = None
    related_lots: list[str]


class Transaction(OcdsModel):
    id: str
    source: str | None = None
    date: datetime
    value: Value
    payer: OrganizationReference
    payee: OrganizationReference


class Implementation(OcdsModel):
    transactions: list[Transaction] | None = None


class Contract(OcdsModel):
    id: str
    award_id: str = Field(alias="awardID")
    title: str
    status: str
    period: Period | None = None
    value: Value | None = None
    date_signed: datetime | None = None
    amendments: list[Amendment] | None = None
    implementation: Implementation | None = None


class Planning(OcdsModel):
    rationale: str | None = None


class Release(OcdsModel):
    ocid: str
    id: str
    date: datetime
    tag: list[str]
    initiation_type: str = "tender"
    language: str = "en"
    parties: list[Organization]
    planning: Planning | None = None
    tender: Tender
    awards: list[Award] | None = None
    contracts: list[Contract] | None = None
    related_processes: list[RelatedProcess] | None = None


class Publisher(OcdsModel):
    name: str


class ReleasePackage(OcdsModel):
    uri: str
    version: str = "1.1"
    extensions: list[str]
    published_date: datetime
    publisher: Publisher
    license: str | None = None
    publication_policy: str | None = None
    releases: list[Release]

