"""What enters and leaves the API: separate input and public pydantic models.

`response_model` on each route decides what leaves the server; none of these models has
a field for a private key or a care note's plaintext outside the note routes.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from web3 import Web3

RequestableHat = Literal["care_receiver", "care_giver", "arranger", "supporter"]


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
    state: Literal["queued", "sent", "mined", "confirmed", "failed", "reverted"]
    tx_hash: str | None
    block_number: int | None
    error: str | None
    error_args: str | None


class ErrorBody(BaseModel):
    error: str
    message: str
    field: str | None = None
    retryable: bool
