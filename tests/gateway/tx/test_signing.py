"""The worker's fast encoders and signatures equal web3's and eth_account's, byte for byte.

Pure checks: the contracts' ABIs from the compiled artifacts, no node and no gateway."""

from __future__ import annotations

import secrets

import pytest
from eccoo.client.artifacts import load_artifacts
from eccoo.client.forwarder import ForwardRequest, sign_request
from eccoo.gateway.tx.calldata import Calldata, ForwardRequestCodec
from eccoo.gateway.tx.signing import TransactionSigner, sign_digest
from eth_account import Account
from eth_utils import keccak
from web3 import Web3
from web3.contract import Contract


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


CHAIN_ID = 20231


@pytest.fixture(scope="module")
def contracts() -> dict[str, Contract]:
    w3 = Web3()
    return {
        name: w3.eth.contract(address=Account.create().address, abi=artifact.abi)
        for name, artifact in load_artifacts().items()
    }


def test_fast_calldata_and_forward_requests_match_web3(contracts: dict[str, Contract]) -> None:
    """The gateway's cached ABI encoding and EIP-712 signing equal web3's, byte for byte."""
    coin, pots = contracts["CareCoin"], contracts["FundingPots"]
    forwarder = contracts["CareForwarder"]
    to = Account.create().address
    funders = [keccak(text="a"), keccak(text="b")]
    assert "0x" + Calldata(coin).encode("transfer", to, 5).hex() == coin.encode_abi(
        "transfer", args=[to, 5]
    )
    assert "0x" + Calldata(pots).encode(
        "createPot", to, funders, [4_000, 6_000]
    ).hex() == pots.encode_abi("createPot", args=[to, funders, [4_000, 6_000]])
    member = Account.create()
    data = Calldata(coin).encode("transfer", to, 5)
    request = ForwardRequest(member.address, coin.address, 0, 100_000, 3, 2_000_000_000, data)
    requests = ForwardRequestCodec(forwarder, CHAIN_ID)
    fast = requests.sign(member, request)
    slow = sign_request(member, request, chain_id=CHAIN_ID, forwarder_address=forwarder.address)
    assert fast.signature == slow.signature
    assert requests.execute(fast) == forwarder.encode_abi("execute", args=[fast.as_call_arg()])
    assert requests.relay([fast, fast], to) == forwarder.encode_abi(
        "executeBatch", args=[[fast.as_call_arg(), fast.as_call_arg()], to]
    )
