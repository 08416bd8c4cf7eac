"""The kinds of message people receive, and which of them cannot be turned off."""

from dataclasses import dataclass
from enum import StrEnum

from lap_market.accounts.models import Role


class Kind(StrEnum):
    OPPORTUNITY = "opportunity"
    TENDER_PUBLISHED = "tender_published"
    AMENDMENT = "amendment"
    ANSWER = "answer"
    DEADLINE_REMINDER = "deadline_reminder"
    BID_RECEIPT = "bid_receipt"
    AWARD = "award"
    LOT_UNSUCCESSFUL = "lot_unsuccessful"
    QUESTION_ASKED = "question_asked"
    STANDSTILL_ENDED = "standstill_ended"
    CONTRACT_ISSUED = "contract_issued"
    ACCEPTANCE_OUTSTANDING = "acceptance_outstanding"
    ACCOUNT_SECURITY = "account_security"
    DEMAND_ROUND = "demand_round"
    CONTRACT_UPDATE = "contract_update"
    FRAMEWORK = "framework"
    DIGEST = "digest"


class Mode(StrEnum):
    IMMEDIATE = "immediate"
    DAILY = "daily"
    OFF = "off"


ALL_ROLES = frozenset(Role)
PROVIDER = frozenset({Role.PROVIDER})
BOROUGH = frozenset({Role.BOROUGH_MANAGER})
OFFICER = frozenset({Role.PROCUREMENT_OFFICER})
PARTIES = PROVIDER | BOROUGH


@dataclass(frozen=True)
class KindInfo:
    label: str
    roles: frozenset[Role]  # whose preferences page lists it
    # Messages about the person's own contracts and account security must reach them.
    can_turn_off: bool = True


KINDS: dict[Kind, KindInfo] = {
    Kind.OPPORTUNITY: KindInfo("New opportunities in categories you offer", PROVIDER),
    Kind.TENDER_PUBLISHED: KindInfo("Tenders holding your demand are published", BOROUGH),
    Kind.AMENDMENT: KindInfo("Amendments to tenders", PROVIDER),
    Kind.ANSWER: KindInfo("Answers to clarification questions", PROVIDER),
    Kind.DEADLINE_REMINDER: KindInfo("Reminders before a submission deadline", PROVIDER),
    Kind.BID_RECEIPT: KindInfo("Receipts for your bids", PROVIDER),
    Kind.AWARD: KindInfo("Award decisions", PARTIES),
    Kind.LOT_UNSUCCESSFUL: KindInfo("Lots closed as unsuccessful", BOROUGH),
    Kind.QUESTION_ASKED: KindInfo("Questions asked by providers", OFFICER),
    Kind.STANDSTILL_ENDED: KindInfo("Standstill ended: call-offs ready", OFFICER),
    Kind.CONTRACT_ISSUED: KindInfo("Contracts issued to you", PARTIES, can_turn_off=False),
    Kind.ACCEPTANCE_OUTSTANDING: KindInfo(
        "Contracts waiting for your acceptance", PARTIES, can_turn_off=False
    ),
    Kind.ACCOUNT_SECURITY: KindInfo("Your account's security", ALL_ROLES, can_turn_off=False),
    Kind.DEMAND_ROUND: KindInfo(
        "Demand rounds: invitations, reminders and extensions", BOROUGH
    ),
    Kind.CONTRACT_UPDATE: KindInfo(
        "Invoices, changes, spend warnings, termination and renewal of your contracts",
        PARTIES | OFFICER, can_turn_off=False,
    ),
    # A cascade offer lapses in two working days: the member must hear of it.
    Kind.FRAMEWORK: KindInfo(
        "Framework call-offs: offers to you, answers, further competitions", PARTIES,
        can_turn_off=False,
    ),
}


def kinds_for(role: str) -> list[Kind]:
    """The kinds a person in ``role`` can receive (the digest is not chosen on its own)."""
    return [kind for kind, info in KINDS.items() if role in info.roles]
