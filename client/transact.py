"""Sends transactions signed by a local account and turns reverts into named errors.

Used by deploy and by anyone driving the contracts from Python. It signs locally, so a key
never leaves the process; it never logs a key, a raw transaction or a signature.
"""

from __future__ import annotations

from typing import Any

from eccoo.client.errors import ChainUnavailable, ContractReverted
from eccoo.client.revert import decode_revert, revert_data
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import Web3
from web3.contract.contract import ContractConstructor, ContractFunction
from web3.exceptions import ContractCustomError, ContractLogicError, TimeExhausted
from web3.types import TxReceipt


class Sender:
    """Signs and sends transactions from one account, keeping its own nonce count."""

    def __init__(
        self, w3: Web3, account: LocalAccount, *, error_table: dict, timeout: float = 120.0
    ):
        self.w3 = w3
        self.account = account
        self.error_table = error_table
        self.timeout = timeout
        self._nonce: int | None = None

    @property
    def address(self) -> str:
        return str(self.account.address)

    def next_nonce(self) -> int:
        if self._nonce is None:
            self._nonce = self.w3.eth.get_transaction_count(self.account.address, "pending")
        nonce = self._nonce
        self._nonce += 1
        return nonce

    def build(
        self,
        call: ContractFunction | ContractConstructor,
        *,
        gas: int | None = None,
        value: int = 0,
    ) -> dict[str, Any]:
        """The transaction for `call`; estimating gas here surfaces a revert by name."""
        params: dict[str, Any] = {"from": self.address, "value": value}
        if gas is not None:
            params["gas"] = gas
        try:
            tx = call.build_transaction(params)  # type: ignore[arg-type]
        except (ContractCustomError, ContractLogicError) as exc:
            raise self.reverted(exc, what=_describe(call)) from None
        except OSError as exc:
            raise ChainUnavailable(f"node did not answer: {exc}") from exc
        except Exception as exc:
            # In-process chains (eth-tester) raise their own type; revert bytes mark a revert.
            if revert_data(exc) is None:
                raise
            raise self.reverted(exc, what=_describe(call)) from None
        built: dict[str, Any] = dict(tx)
        built["nonce"] = self.next_nonce()
        return built

    def send_tx(self, tx: dict[str, Any]) -> bytes:
        signed = self.account.sign_transaction(tx)
        try:
            return bytes(self.w3.eth.send_raw_transaction(signed.raw_transaction))
        except OSError as exc:
            self._nonce = None  # unknown whether it was accepted: re-read next time
            raise ChainUnavailable(f"node did not answer: {exc}") from exc

    def wait(self, tx_hash: bytes, what: str = "transaction") -> TxReceipt:
        try:
            receipt = self.w3.eth.wait_for_transaction_receipt(
                HexBytes(tx_hash), timeout=self.timeout
            )
        except TimeExhausted as exc:
            raise ChainUnavailable(f"{what}: not mined within {self.timeout:g} s") from exc
        if receipt["status"] != 1:
            raise ContractReverted(f"{what}: reverted in block {receipt['blockNumber']}")
        return receipt

    def transact(
        self,
        call: ContractFunction | ContractConstructor,
        *,
        gas: int | None = None,
        value: int = 0,
    ) -> TxReceipt:
        """Builds, signs, sends and waits; a revert raises ContractReverted with its name."""
        tx = self.build(call, gas=gas, value=value)
        return self.wait(self.send_tx(tx), _describe(call))

    def reverted(self, exc: BaseException, *, what: str) -> ContractReverted:
        decoded = decode_revert(revert_data(exc), self.error_table)
        if decoded is None:
            return ContractReverted(f"{what}: reverted ({exc})")
        return ContractReverted(
            f"{what}: reverted with {decoded}", error_name=decoded.name, args=decoded.args
        )


def _describe(call: Any) -> str:
    name = getattr(call, "fn_name", None) or "constructor"
    address = getattr(call, "address", None)
    return f"{name} on {address}" if address else name
