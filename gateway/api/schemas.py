"""What enters and leaves the API: separate input and public pydantic models.

`response_model` on each route decides what leaves the server; none of these models has
a field for a private key or a care note's plaintext outside the note routes.
"""

from __future__ import annotations

from typing import Annotated, Literal

from eccoo.client.vocabulary import CARE_HAT_KEYS, TxState
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema, field_validator
from web3 import Web3


def _care_hat(value: str) -> str:
    if value not in CARE_HAT_KEYS:
        raise ValueError(f"a member may ask for one of {', '.join(sorted(CARE_HAT_KEYS))}")
    return value


# The hats a member may ask for, from the one list (client/vocabulary.py), as an enum in
# the OpenAPI document.
RequestableHat = Annotated[
    str,
    AfterValidator(_care_hat),
    WithJsonSchema({"type": "string", "enum": sorted(CARE_HAT_KEYS)}),
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def checksummed(value: str) -> str:
    if (
        not isinstance(value, str)
        or not Web3.is_address(value)
        or not Web3.is_checksum_address(value)
    ):
        raise ValueError("must be a checksummed 0x address")
    return value


class MemberPublic(BaseModel):
    subject: str
    member_id: str
    address: str
    wallet_kind: Literal["custodial", "linked"]
    membership: Literal["pending", "approved", "registered"]
    hats: list[str]


class HatRequestIn(Strict):
    hat: RequestableHat


class HatRequestPublic(BaseModel):
    id: int
    subject: str
    hat: str
    status: Literal["pending", "approved", "declined"]


class WalletPublic(BaseModel):
    address: str
    wallet_kind: Literal["custodial", "linked"]


class LinkChallengeIn(Strict):
    address: str

    _check = field_validator("address")(checksummed)


class LinkChallengePublic(BaseModel):
    nonce: str
    message: str
    expires_at: float


class LinkWalletIn(Strict):
    nonce: str = Field(min_length=16, max_length=64)
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$")


class TransferIn(Strict):
    to: str
    amount: int = Field(gt=0, le=10**30)

    _check = field_validator("to")(checksummed)


class TransactionPublic(BaseModel):
    id: str
    kind: str
    state: TxState
    tx_hash: str | None
    block_number: int | None
    error: str | None
    error_args: str | None
    error_field: str | None = Field(default=None, description="The request field it concerns.")
    error_message: str | None = Field(default=None, description="The refusal in plain words.")


class ErrorBody(BaseModel):
    error: str
    message: str
    field: str | None = None
    retryable: bool


Amount = Field(gt=0, le=10**15, description="An integer number of pennies (1 CARE = 100).")
Reference = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9 _./:-]+$")


class BalancePublic(BaseModel):
    address: str
    balance: int


class MintIn(Strict):
    to: str
    amount: int = Amount
    bank_ref: str = Reference

    _check = field_validator("to")(checksummed)


class BurnIn(Strict):
    from_: str = Field(alias="from")
    amount: int = Amount
    payout_ref: str = Reference

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    _check = field_validator("from_")(checksummed)


class SubmissionPublic(BaseModel):
    """What a ledger-changing POST answers (202): the queued transaction to follow."""

    transaction: TransactionPublic


class BookIn(Strict):
    receiver: str
    giver: str
    start: int = Field(gt=0, lt=2**63)
    duration_minutes: int = Field(gt=0, le=24 * 60)
    pot_id: int = Field(gt=0, lt=2**63)

    _check = field_validator("receiver", "giver")(checksummed)


class HourlyRateIn(Strict):
    rate_per_hour: int = Field(gt=0, le=10**9, description="The giver's own rate, pennies an hour.")


class ContributionRatesIn(Strict):
    payer_bps: int = Field(ge=0, le=10_000, description="On top of the price (1750 = 17.5 %).")
    giver_bps: int = Field(ge=0, le=10_000, description="Taken from the price (750 = 7.5 %).")


class ContributionRatesPublic(BaseModel):
    payer_bps: int
    giver_bps: int


class QuotePublic(BaseModel):
    """What a booking will cost, exactly as the chain will compute it (integer pennies)."""

    giver: str
    duration_minutes: int
    pot_id: int
    rate_per_hour: int
    price: int
    payer_bps: int
    giver_bps: int
    payer_contribution: int
    giver_contribution: int
    payer_pays: int = Field(description="What leaves the pot: price + payer contribution.")
    giver_receives: int = Field(description="The giver's take-home: price - giver contribution.")
    contribution: int = Field(description="What the cooperative receives: both contributions.")


class DisputeIn(Strict):
    reason: str = Field(min_length=1, max_length=2000, description="Kept off chain; hashed.")


class ResolveIn(Strict):
    paid_amount: int = Field(ge=0, le=10**15)


class AppointmentPublic(BaseModel):
    id: int
    receiver: str
    giver: str
    arranger: str
    start: int
    duration_minutes: int
    status: str
    pot_id: int
    rate_per_hour: int
    amount: int
    payer_contribution_bps: int
    giver_contribution_bps: int
    paid_amount: int
    payer_contribution: int
    giver_contribution: int


class FunderShare(Strict):
    funder_id: str = Field(pattern=r"^0x[0-9a-fA-F]{64}$")
    share_bps: int = Field(gt=0, le=10_000)


class PotIn(Strict):
    receiver: str
    funders: list[FunderShare] = Field(min_length=1, max_length=16)

    _check = field_validator("receiver")(checksummed)


class HourlyCapIn(Strict):
    funder_id: str = Field(pattern=r"^0x[0-9a-fA-F]{64}$")
    cap_per_hour: int = Field(ge=0, le=10**15, description="Pennies an hour; 0 lifts the cap.")


class DepositIn(Strict):
    funder_id: str = Field(pattern=r"^0x[0-9a-fA-F]{64}$")
    amount: int = Amount


class FunderStatement(BaseModel):
    funder_id: str
    share_bps: int
    deposited: int
    drawn: int
    refunded: int
    balance: int


class PotStatement(BaseModel):
    pot_id: int
    receiver: str
    funders: list[FunderStatement]
