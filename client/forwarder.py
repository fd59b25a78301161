"""Builds, signs and relays ERC-2771 forward requests (OpenZeppelin ERC2771Forwarder, EIP-712).

A member signs a `ForwardRequest` with their own key; a relayer submits it and pays the gas,
and the target contract sees the member as the sender. This module never holds a key beyond
the call that signs, and never logs a signature.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eccoo.client.errors import ContractReverted
from eccoo.client.transact import Sender
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.types import TxReceipt, Wei

DOMAIN_NAME = "CareForwarder"
DOMAIN_VERSION = "1"
DEFAULT_GAS = 500_000
DEFAULT_TTL_SECONDS = 600

FORWARD_REQUEST_TYPES = {
    "ForwardRequest": [
        {"name": "from", "type": "address"},
        {"name": "to", "type": "address"},
        {"name": "value", "type": "uint256"},
        {"name": "gas", "type": "uint256"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint48"},
        {"name": "data", "type": "bytes"},
    ]
}
# The same type as EIP-712 hashes it, for code that builds digests by hand
# (`gateway/tx/calldata.py`): the type string, and each field's type in the encoded struct
# (dynamic `bytes` enter it as their keccak).
FORWARD_REQUEST_TYPE = "ForwardRequest({})".format(
    ",".join(f"{f['type']} {f['name']}" for f in FORWARD_REQUEST_TYPES["ForwardRequest"])
)
FORWARD_REQUEST_STRUCT_TYPES = [
    "bytes32" if f["type"] == "bytes" else f["type"]
    for f in FORWARD_REQUEST_TYPES["ForwardRequest"]
]


@dataclass(frozen=True)
class ForwardRequest:
    """A request as signed: `nonce` is signed but not sent (the forwarder reads its own)."""

    from_: str
    to: str
    value: int
    gas: int
    nonce: int
    deadline: int
    data: bytes
    signature: bytes = b""

    def message(self) -> dict[str, Any]:
        """The EIP-712 message fields."""
        return {
            "from": self.from_,
            "to": self.to,
            "value": self.value,
            "gas": self.gas,
            "nonce": self.nonce,
            "deadline": self.deadline,
            "data": self.data,
        }

    def as_call_arg(self) -> tuple[Any, ...]:
        """The `ForwardRequestData` tuple `execute` takes."""
        return (self.from_, self.to, self.value, self.gas, self.deadline, self.data, self.signature)

    def to_json(self) -> dict[str, Any]:
        """Hex-encoded form for transport (e.g. from a member's device to the gateway)."""
        return {
            **self.message(),
            "data": "0x" + self.data.hex(),
            "signature": "0x" + self.signature.hex(),
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> ForwardRequest:
        return cls(
            Web3.to_checksum_address(raw["from"]),
            Web3.to_checksum_address(raw["to"]),
            int(raw["value"]),
            int(raw["gas"]),
            int(raw["nonce"]),
            int(raw["deadline"]),
            bytes.fromhex(raw["data"].removeprefix("0x")),
            bytes.fromhex(raw.get("signature", "").removeprefix("0x")),
        )


def domain(chain_id: int, forwarder_address: str) -> dict[str, Any]:
    """The EIP-712 domain of the deployed forwarder."""
    return {
        "name": DOMAIN_NAME,
        "version": DOMAIN_VERSION,
        "chainId": chain_id,
        "verifyingContract": Web3.to_checksum_address(forwarder_address),
    }


def encode_call(contract: Contract, fn_name: str, *args: Any) -> bytes:
    """Calldata for `contract.fn_name(*args)`."""
    return bytes.fromhex(contract.encode_abi(fn_name, args=list(args))[2:])


def build_request(
    forwarder: Contract,
    signer: str,
    to: str,
    data: bytes,
    *,
    gas: int = DEFAULT_GAS,
    ttl: int = DEFAULT_TTL_SECONDS,
    deadline: int | None = None,
    value: int = 0,
) -> ForwardRequest:
    """An unsigned request: nonce from `forwarder.nonces(signer)`, deadline = latest block + ttl."""
    signer = Web3.to_checksum_address(signer)
    nonce = forwarder.functions.nonces(signer).call()
    if deadline is None:
        deadline = int(forwarder.w3.eth.get_block("latest")["timestamp"]) + ttl
    return ForwardRequest(signer, Web3.to_checksum_address(to), value, gas, nonce, deadline, data)


def sign_request(
    account: LocalAccount, request: ForwardRequest, *, chain_id: int, forwarder_address: str
) -> ForwardRequest:
    """The request with the member's EIP-712 signature."""
    signable = encode_typed_data(
        domain(chain_id, forwarder_address), FORWARD_REQUEST_TYPES, request.message()
    )
    signature = account.sign_message(signable).signature
    return ForwardRequest(**{**request.__dict__, "signature": bytes(signature)})


def recover_signer(request: ForwardRequest, *, chain_id: int, forwarder_address: str) -> str:
    """Who signed `request` (the gateway checks this against the member before relaying)."""
    signable = encode_typed_data(
        domain(chain_id, forwarder_address), FORWARD_REQUEST_TYPES, request.message()
    )
    return str(Account.recover_message(signable, signature=request.signature))


def signed_call(
    forwarder: Contract,
    account: LocalAccount,
    target: Contract,
    fn_name: str,
    *args: Any,
    gas: int = DEFAULT_GAS,
    ttl: int = DEFAULT_TTL_SECONDS,
) -> ForwardRequest:
    """Convenience: encode `target.fn_name(*args)`, build the request and sign it as `account`."""
    data = encode_call(target, fn_name, *args)
    request = build_request(forwarder, account.address, target.address, data, gas=gas, ttl=ttl)
    return sign_request(
        account, request, chain_id=forwarder.w3.eth.chain_id, forwarder_address=forwarder.address
    )


def simulate(forwarder: Contract, request: ForwardRequest, sender: Sender) -> None:
    """Runs the inner call as the forwarder would; raises ContractReverted with the target's error.

    The forwarder itself only reports `FailedCall()` when the target reverts, so the gateway
    uses this to tell a member *why* (e.g. CareLedgerInvalidStatus).
    """
    suffixed = request.data + bytes.fromhex(request.from_[2:])
    try:
        forwarder.w3.eth.call(
            {
                "from": forwarder.address,
                "to": request.to,
                "data": suffixed,
                "value": Wei(request.value),
                "gas": request.gas,
            }
        )
    except Exception as exc:
        raise sender.reverted(exc, what=f"forwarded call to {request.to}") from None


def relay(forwarder: Contract, request: ForwardRequest, sender: Sender) -> TxReceipt:
    """Submits `request` through `forwarder.execute`, paid by `sender` (a relayer)."""
    try:
        return sender.transact(
            forwarder.functions.execute(request.as_call_arg()), value=request.value
        )
    except ContractReverted as exc:
        if exc.error_name == "FailedCall":
            simulate(forwarder, request, sender)
        raise
