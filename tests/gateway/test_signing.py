"""The worker's fast signatures equal eth_account's, byte for byte."""

from __future__ import annotations

import secrets

import pytest
from eccoo.gateway.signing import TransactionSigner, sign_digest
from eth_account import Account


@pytest.mark.parametrize("chain_id", [1, 20231, 2**40])
def test_relayer_transactions_match_eth_account(chain_id: int) -> None:
    for _ in range(20):
        account = Account.create()
        to = Account.create().address
        data = "0x" + secrets.token_bytes(secrets.randbelow(300)).hex()
        nonce, gas_price, gas = secrets.randbelow(10**6), 10**9 + secrets.randbelow(10**12), 90_000
        expected = account.sign_transaction(
            {
                "to": to,
                "data": data,
                "value": 0,
                "gas": gas,
                "gasPrice": gas_price,
                "nonce": nonce,
                "chainId": chain_id,
            }
        )
        raw, tx_hash = TransactionSigner(bytes(account.key), chain_id).sign(
            nonce=nonce, gas_price=gas_price, gas=gas, to=to, data=data
        )
        assert raw == bytes(expected.raw_transaction)
        assert tx_hash == bytes(expected.hash)


def test_digest_signatures_match_eth_account() -> None:
    for _ in range(50):
        account = Account.create()
        digest = secrets.token_bytes(32)
        expected = account.unsafe_sign_hash(digest)
        assert sign_digest(bytes(account.key), digest) == bytes(expected.signature)
