"""Drives the real ledger contracts hard enough to produce thousands of events, fast.

Transactions are signed locally and sent without waiting, many per block, in phases
(each phase waits for its receipts, since later calls depend on earlier state). It is
shared by the ground-truth tests and the benchmark; it never prints a key.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from eccoo.client.deploy import deploy
from eccoo.client.deployment import Deployment
from eccoo.client.revert import decode_revert, error_table, revert_data
from eccoo.node.keys import load_account
from eccoo.node.manifest import load_manifest
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from hexbytes import HexBytes
from web3 import Web3
from web3.logs import DISCARD

CARE_RECEIVER, CARE_GIVER, ARRANGER, SUPPORTER, COORDINATOR = 0, 1, 2, 3, 4
FUNDERS = [keccak(text=f"funder:{name}") for name in ("local-authority", "nhs", "self")]


def member_id(address: str) -> bytes:
    return keccak(text=f"test-member:{address.lower()}")


@dataclass
class Actors:
    admin: LocalAccount
    receivers: list[LocalAccount]
    givers: list[LocalAccount]
    arranger: LocalAccount
    coordinator: LocalAccount  # books and runs circles: nobody grants a hat to themselves
    pots: dict[str, int] = field(default_factory=dict)  # receiver address -> pot id


class Ledger:
    """Deployed contracts plus a fast fire-and-collect transaction sender."""

    def __init__(self, network_dir: Any, w3: Web3) -> None:
        self.w3 = w3
        self.deployment: Deployment = deploy(network_dir)
        self.c = {
            k: self.deployment.contract(w3, k)
            for k in ("Membership", "CareCoin", "FundingPots", "CareLedger", "Forwarder")
        }
        manifest = load_manifest(network_dir)
        self.admin = load_account(manifest.deployer)
        self.others = [load_account(r) for r in manifest.relayers]
        self._nonces: dict[str, int] = {}
        self.gas_price = max(w3.eth.gas_price * 2, 10**9)
        self.chain_id = w3.eth.chain_id
        self._errors = error_table(c.abi for c in self.c.values())
        self._labels: dict[bytes, str] = {}  # tx hash -> "Contract.fn", to explain a revert

    def _nonce(self, account: LocalAccount) -> int:
        if account.address not in self._nonces:
            self._nonces[account.address] = self.w3.eth.get_transaction_count(
                account.address, "pending"
            )
        n = self._nonces[account.address]
        self._nonces[account.address] = n + 1
        return n

    def send(
        self, account: LocalAccount, contract: str, fn: str, *args: Any, gas: int = 600_000
    ) -> bytes:
        target = self.c[contract]
        tx = {
            "to": target.address,
            "data": target.encode_abi(fn, args=list(args)),
            "nonce": self._nonce(account),
            "gas": gas,
            "gasPrice": self.gas_price,
            "chainId": self.chain_id,
            "value": 0,
        }
        signed = account.sign_transaction(tx)
        tx_hash = bytes(self.w3.eth.send_raw_transaction(signed.raw_transaction))
        self._labels[tx_hash] = f"{contract}.{fn}{tuple(args)!r}"[:200]
        return tx_hash

    def recent_start(self) -> int:
        """A booking start a minute before the head: deliverable at once, and well inside
        the ledger's grace for starts in the past."""
        return int(self.w3.eth.get_block("latest")["timestamp"]) - 60

    def settle(self, hashes: list[bytes]) -> list[Any]:
        """Wait for every receipt; a reverted transaction is a bug in the workload, reported
        with the call and its error (replayed at the block before)."""
        receipts = [
            self.w3.eth.wait_for_transaction_receipt(HexBytes(h), timeout=180) for h in hashes
        ]
        failed = [self._why(r) for r in receipts if r["status"] != 1]
        assert not failed, f"{len(failed)} workload transactions reverted: {failed}"
        return receipts

    def _why(self, receipt: Any) -> str:
        tx = self.w3.eth.get_transaction(receipt["transactionHash"])
        call = {"from": tx["from"], "to": tx["to"], "data": tx["input"], "gas": tx["gas"]}
        try:
            self.w3.eth.call(call, receipt["blockNumber"] - 1)  # type: ignore[arg-type]
            reason = "(succeeds when replayed at the block before)"
        except Exception as exc:
            reason = str(decode_revert(revert_data(exc), self._errors) or repr(exc)[:300])
        label = self._labels.get(bytes(receipt["transactionHash"]), "?")
        return (
            f"{label} by {tx['from']} in block {receipt['blockNumber']}, "
            f"gas used {receipt['gasUsed']} of {tx['gas']}: {reason}"
        )


def setup_actors(ledger: Ledger, receivers: int = 3, givers: int = 3) -> Actors:
    others = ledger.others
    assert len(others) >= receivers + givers + 2, "the network needs more funded accounts"
    actors = Actors(
        ledger.admin,
        others[:receivers],
        others[receivers : receivers + givers],
        others[receivers + givers],
        others[receivers + givers + 1],
    )
    admin, coordinator = actors.admin, actors.coordinator
    sent = []
    for account in [*actors.receivers, *actors.givers, actors.arranger, coordinator]:
        sent.append(
            ledger.send(
                admin, "Membership", "registerMember", account.address, member_id(account.address)
            )
        )
    ledger.settle(sent)
    sent = [ledger.send(admin, "Membership", "grantHat", coordinator.address, COORDINATOR)]
    for account in actors.receivers:
        sent.append(ledger.send(admin, "Membership", "grantHat", account.address, CARE_RECEIVER))
    for account in actors.givers:
        sent.append(ledger.send(admin, "Membership", "grantHat", account.address, CARE_GIVER))
    sent.append(ledger.send(admin, "Membership", "grantHat", actors.arranger.address, ARRANGER))
    root = keccak(text="circle:root")
    ledger.settle(sent)
    # One sender, so the circle exists (lower nonce) before its roles are set.
    sent = [
        ledger.send(
            coordinator,
            "Membership",
            "createCircle",
            root,
            b"\0" * 32,
            keccak(text="aim"),
            keccak(text="domain"),
        ),
        ledger.send(
            coordinator,
            "Membership",
            "setArranger",
            actors.receivers[0].address,
            actors.arranger.address,
        ),
    ]
    for i, account in enumerate([*actors.receivers, *actors.givers]):
        sent.append(
            ledger.send(
                coordinator, "Membership", "setCircleRole", root, account.address, 1 + i % 3
            )
        )
    for receiver in actors.receivers:
        sent.append(
            ledger.send(
                admin, "FundingPots", "createPot", receiver.address, FUNDERS[:2], [6000, 4000]
            )
        )
    sent.append(
        ledger.send(admin, "CareCoin", "mint", admin.address, 10**12, keccak(text="bank:initial"))
    )
    sent.append(ledger.send(admin, "CareCoin", "approve", ledger.c["FundingPots"].address, 2**255))
    receipts = ledger.settle(sent)
    pot_logs = ledger.c["FundingPots"].events.PotCreated().process_receipt
    for receipt in receipts:
        for ev in pot_logs(receipt, errors=DISCARD):
            actors.pots[ev["args"]["receiver"]] = ev["args"]["potId"]
    return actors


def care_round(ledger: Ledger, actors: Actors, appointments: int, rng: random.Random) -> int:
    """Book, deliver, confirm/dispute, pay and anchor `appointments` appointments, plus
    deposits, transfers, burns and hat churn. Returns the number of transactions sent."""
    admin = actors.admin
    sent: list[bytes] = []
    for receiver in actors.receivers:
        pot = actors.pots[receiver.address]
        for funder in FUNDERS[:2]:
            sent.append(
                ledger.send(admin, "FundingPots", "deposit", pot, funder, appointments * 10_000)
            )
    # Each giver sets their own rate for this round; a funder caps one pot well above it.
    for giver in actors.givers:
        sent.append(
            ledger.send(giver, "CareLedger", "setHourlyRate", rng.choice([1500, 1800, 2400]))
        )
    capped = actors.pots[rng.choice(actors.receivers).address]
    sent.append(ledger.send(admin, "FundingPots", "setHourlyCap", capped, FUNDERS[0], 10_000))
    ledger.settle(sent)
    count = len(sent)
    sent = []
    booked: list[tuple[LocalAccount, LocalAccount]] = []
    start = ledger.recent_start()
    for _ in range(appointments):
        receiver = rng.choice(actors.receivers)
        giver = rng.choice(actors.givers)
        sent.append(
            ledger.send(
                actors.coordinator,
                "CareLedger",
                "book",
                receiver.address,
                giver.address,
                start,
                rng.choice([30, 60, 90]),
                actors.pots[receiver.address],
            )
        )
        booked.append((receiver, giver))
    receipts = ledger.settle(sent)
    count += len(sent)
    booked_event = ledger.c["CareLedger"].events.AppointmentBooked().process_receipt
    ids = [ev["args"]["appointmentId"] for r in receipts for ev in booked_event(r, errors=DISCARD)]
    assert len(ids) == appointments
    sent = [
        ledger.send(g, "CareLedger", "markDelivered", i)
        for i, (_, g) in zip(ids, booked, strict=True)
    ]
    ledger.settle(sent)
    count += len(sent)
    sent, disputed, confirmed = [], [], []
    for i, (receiver, giver) in zip(ids, booked, strict=True):
        if rng.random() < 0.1:
            sent.append(ledger.send(receiver, "CareLedger", "dispute", i, keccak(text=f"r{i}")))
            disputed.append(i)
        else:
            sent.append(ledger.send(receiver, "CareLedger", "confirm", i))
            confirmed.append(i)
        if rng.random() < 0.3:
            sent.append(
                ledger.send(
                    giver,
                    "CareLedger",
                    "anchorCareNote",
                    i,
                    keccak(text=f"note:{i}:{rng.random()}"),
                )
            )
    ledger.settle(sent)
    count += len(sent)
    sent = []
    for i in confirmed:
        if rng.random() < 0.85:  # leave some confirmed but unpaid
            sent.append(ledger.send(admin, "CareLedger", "releasePayment", i))
    for n, i in enumerate(disputed):
        sent.append(
            ledger.send(actors.coordinator, "CareLedger", "resolveDispute", i, [0, 100, 450][n % 3])
        )
    for giver in actors.givers:
        sent.append(
            ledger.send(
                admin, "CareCoin", "mint", giver.address, 5_000, keccak(text=f"bank:{rng.random()}")
            )
        )
    ledger.settle(sent)
    count += len(sent)
    sent = []
    for giver in actors.givers:
        sent.append(ledger.send(giver, "CareCoin", "transfer", actors.receivers[0].address, 100))
        sent.append(ledger.send(giver, "CareCoin", "approve", admin.address, 50))
    ledger.settle(sent)
    count += len(sent)
    sent = []
    for giver in actors.givers:
        sent.append(
            ledger.send(
                admin, "CareCoin", "burn", giver.address, 50, keccak(text=f"payout:{rng.random()}")
            )
        )
    receiver = rng.choice(actors.receivers)
    sent.append(
        ledger.send(
            admin,
            "FundingPots",
            "refund",
            actors.pots[receiver.address],
            FUNDERS[0],
            10,
            admin.address,
        )
    )
    sent.append(ledger.send(admin, "Membership", "grantHat", actors.arranger.address, SUPPORTER))
    ledger.settle(sent)
    sent = [ledger.send(admin, "Membership", "revokeHat", actors.arranger.address, SUPPORTER)]
    ledger.settle(sent)
    return count + len(sent) + 7
