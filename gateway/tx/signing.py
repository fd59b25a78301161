"""secp256k1 signatures for the worker's hot path, straight through libsecp256k1.

EIP-712 digests (members' forward requests) and legacy EIP-155 transactions (relayers),
without eth_account's per-call validation and key objects. Deterministic (RFC 6979) and
low-s like eth_account; `tests/gateway/tx/test_signing.py` checks the bytes against it.
Keys are never logged or returned; a signer holds only what its caller already held.
"""

from __future__ import annotations

import coincurve
import rlp
from eth_utils import keccak


def sign_digest(private_key: bytes, digest: bytes) -> bytes:
    """The 65-byte `r || s || v` signature of a 32-byte digest (v = 27 or 28)."""
    signature = coincurve.PrivateKey(private_key).sign_recoverable(digest, hasher=None)
    return signature[:64] + bytes([signature[64] + 27])


class TransactionSigner:
    """Signs legacy (type 0) transactions for one chain with one key (a relayer's)."""

    def __init__(self, private_key: bytes, chain_id: int) -> None:
        self._key = coincurve.PrivateKey(private_key)
        self._chain_id = chain_id

    def sign(
        self, *, nonce: int, gas_price: int, gas: int, to: str, data: str, value: int = 0
    ) -> tuple[bytes, bytes]:
        """`(raw transaction, transaction hash)` for an EIP-155 transaction."""
        fields = [nonce, gas_price, gas, bytes.fromhex(to[2:]), value, bytes.fromhex(data[2:])]
        unsigned = rlp.encode([*fields, self._chain_id, 0, 0])
        signature = self._key.sign_recoverable(keccak(unsigned), hasher=None)
        v = signature[64] + self._chain_id * 2 + 35
        r = int.from_bytes(signature[:32], "big")
        s = int.from_bytes(signature[32:64], "big")
        raw = rlp.encode([*fields, v, r, s])
        return raw, keccak(raw)
