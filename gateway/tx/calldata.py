"""Calldata and EIP-712 forward-request signatures without web3's per-call ABI look-ups.

Hot path of every submission and of the worker's signing: selectors, argument types and the
EIP-712 domain separator are computed once per contract; `tests/gateway` checks the results
byte for byte against web3's `encode_abi` and `client.forwarder.sign_request`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from eccoo.client.forwarder import (
    DOMAIN_NAME,
    DOMAIN_VERSION,
    FORWARD_REQUEST_STRUCT_TYPES,
    FORWARD_REQUEST_TYPE,
    ForwardRequest,
)
from eccoo.gateway.tx.signing import sign_digest
from eth_abi import encode
from eth_account.signers.local import LocalAccount
from eth_typing import ABIFunction
from eth_utils import keccak
from eth_utils.abi import function_abi_to_4byte_selector, get_abi_input_types
from web3.contract import Contract

_DOMAIN_TYPE = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"


class Calldata:
    """Encodes calls to one contract's functions (not overloaded ones)."""

    def __init__(self, contract: Contract) -> None:
        self._functions: dict[str, tuple[bytes, list[str]]] = {}
        for item in contract.abi:
            if item.get("type") == "function":
                function = cast(ABIFunction, item)
                self._functions[function["name"]] = (
                    function_abi_to_4byte_selector(function),
                    list(get_abi_input_types(function)),
                )

    def encode(self, fn: str, *args: Any) -> bytes:
        selector, types = self._functions[fn]
        return selector + encode(types, list(args))


class ForwardRequestCodec:
    """`ForwardRequest`s for one deployed forwarder: their EIP-712 signatures and the
    `execute` / `executeBatch` calldata that carries them."""

    def __init__(self, forwarder: Contract, chain_id: int) -> None:
        self.calls = Calldata(forwarder)
        self._separator = keccak(
            encode(
                ["bytes32", "bytes32", "bytes32", "uint256", "address"],
                [
                    keccak(text=_DOMAIN_TYPE),
                    keccak(text=DOMAIN_NAME),
                    keccak(text=DOMAIN_VERSION),
                    chain_id,
                    forwarder.address,
                ],
            )
        )
        self._typehash = keccak(text=FORWARD_REQUEST_TYPE)

    def digest(self, request: ForwardRequest) -> bytes:
        struct = keccak(
            self._typehash
            + encode(
                FORWARD_REQUEST_STRUCT_TYPES,
                [
                    request.from_,
                    request.to,
                    request.value,
                    request.gas,
                    request.nonce,
                    request.deadline,
                    keccak(request.data),
                ],
            )
        )
        return keccak(b"\x19\x01" + self._separator + struct)

    def sign(self, account: LocalAccount, request: ForwardRequest) -> ForwardRequest:
        signature = sign_digest(bytes(account.key), self.digest(request))
        return ForwardRequest(**{**request.__dict__, "signature": signature})

    def execute(self, request: ForwardRequest) -> str:
        """Calldata of `forwarder.execute(request)` (atomic: a failing call reverts it all)."""
        return "0x" + self.calls.encode("execute", request.as_call_arg()).hex()

    def relay(self, requests: Sequence[ForwardRequest], refund_receiver: str) -> str:
        """Calldata the gateway relays: `forwarder.executeBatch(requests, refund_receiver)`.

        Naming a refund receiver makes the batch non-atomic, so a request whose call fails
        still uses its signer's forwarder nonce (the forwarder emits
        `ExecutedForwardRequest(signer, nonce, false)`) and the others in the batch, and the
        signer's later requests signed with the next nonces, stand. `execute` would revert
        the whole transaction and leave the nonce unused, failing every later request of
        that signer. Values are always 0, so nothing is ever refunded."""
        args = [request.as_call_arg() for request in requests]
        return "0x" + self.calls.encode("executeBatch", args, refund_receiver).hex()
