"""The Clique genesis: London active, nothing later (Clique cannot seal Shanghai blocks).

Also computes the genesis block hash in Python (state trie of the allocations + the
London header), so `init` can record it without starting geth. It never writes files.
"""

from __future__ import annotations

from collections.abc import Mapping

import rlp
from eth_hash.auto import keccak
from eth_utils import to_canonical_address
from trie import HexaryTrie

ZERO32 = b"\x00" * 32
EMPTY_TRIE_ROOT = keccak(rlp.encode(b""))
EMPTY_CODE_HASH = keccak(b"")
EMPTY_OMMERS_HASH = keccak(rlp.encode([]))
# EIP-1559's initial base fee: the genesis of a London-from-block-0 chain carries it.
INITIAL_BASE_FEE = 1_000_000_000


def clique_extra_data(signers: list[str]) -> bytes:
    """32 vanity bytes, the sorted signer addresses, 65 zero bytes for the seal (EIP-225)."""
    ordered = sorted(to_canonical_address(s) for s in signers)
    return ZERO32 + b"".join(ordered) + b"\x00" * 65


def build_genesis(
    *,
    chain_id: int,
    period: int,
    epoch: int,
    gas_limit: int,
    signers: list[str],
    alloc: Mapping[str, int],
) -> dict[str, object]:
    """The genesis.json geth `init` reads; `alloc` maps addresses to balances in wei."""
    return {
        "config": {
            "chainId": chain_id,
            "homesteadBlock": 0,
            "eip150Block": 0,
            "eip155Block": 0,
            "eip158Block": 0,
            "byzantiumBlock": 0,
            "constantinopleBlock": 0,
            "petersburgBlock": 0,
            "istanbulBlock": 0,
            "berlinBlock": 0,
            "londonBlock": 0,
            # No shanghaiTime / cancunTime: Clique in geth 1.13 seals pre-Shanghai only.
            "clique": {"period": period, "epoch": epoch},
        },
        "nonce": "0x0",
        "timestamp": "0x0",
        "difficulty": "0x1",
        "gasLimit": hex(gas_limit),
        "extraData": "0x" + clique_extra_data(signers).hex(),
        "mixHash": "0x" + ZERO32.hex(),
        "coinbase": "0x" + "00" * 20,
        "baseFeePerGas": hex(INITIAL_BASE_FEE),
        "alloc": {
            to_canonical_address(addr).hex(): {"balance": hex(balance)}
            for addr, balance in alloc.items()
        },
    }


def _state_root(alloc: Mapping[str, int]) -> bytes:
    state = HexaryTrie({})
    for addr, balance in alloc.items():
        account = rlp.encode([0, balance, EMPTY_TRIE_ROOT, EMPTY_CODE_HASH])
        state[keccak(to_canonical_address(addr))] = account
    return bytes(state.root_hash)


def genesis_hash(genesis: Mapping[str, object]) -> str:
    """Hash of the genesis header as geth builds it (London fields, base fee included)."""
    alloc_raw = genesis["alloc"]
    assert isinstance(alloc_raw, dict)
    alloc = {"0x" + a: int(v["balance"], 16) for a, v in alloc_raw.items()}

    def num(key: str) -> int:
        value = genesis[key]
        assert isinstance(value, str)
        return int(value, 16)

    extra = genesis["extraData"]
    assert isinstance(extra, str)
    header = [
        ZERO32,  # parent hash
        EMPTY_OMMERS_HASH,
        b"\x00" * 20,  # coinbase
        _state_root(alloc),
        EMPTY_TRIE_ROOT,  # transactions
        EMPTY_TRIE_ROOT,  # receipts
        b"\x00" * 256,  # bloom
        num("difficulty"),
        0,  # number
        num("gasLimit"),
        0,  # gas used
        num("timestamp"),
        bytes.fromhex(extra[2:]),
        ZERO32,  # mix hash
        b"\x00" * 8,  # nonce
        num("baseFeePerGas"),
    ]
    return "0x" + keccak(rlp.encode(header)).hex()
