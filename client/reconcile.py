"""Reconcile the ledger with the bank and the funders, for the treasurer.

Every mint must match a bank credit and every burn a payout, by reference and amount;
every funder's deposits into a pot must match its remittances. The chain is read from a
node (it is the source of truth). Plain references never go on chain: they are hashed
exactly as the gateway hashes them, and the statement files never leave this machine.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from eccoo.client.deployment import Deployment
from eth_utils import keccak
from web3 import Web3

from eccoo.errors import InvalidInput

BANK_COLUMNS = ("date", "reference", "amount_pence")
REMITTANCE_COLUMNS = ("pot_id", "funder_id", "amount_pence")


def reference_hash(reference: str) -> bytes:
    """The bytes32 a bank or payout reference becomes on chain (mint/burn `bankRef`)."""
    return keccak(text=f"eccoo:ref:{reference}")


@dataclass(frozen=True)
class BankLine:
    line: int
    date: str
    reference: str
    amount: int  # pennies; credits positive, debits negative


@dataclass
class Reconciliation:
    """What matched and what did not; `clean` is True only when nothing is left over."""

    matched: list[dict[str, Any]] = field(default_factory=list)
    amount_mismatches: list[dict[str, Any]] = field(default_factory=list)
    bank_only: list[dict[str, Any]] = field(default_factory=list)
    chain_only: list[dict[str, Any]] = field(default_factory=list)
    funders: list[dict[str, Any]] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (
            self.amount_mismatches
            or self.bank_only
            or self.chain_only
            or any(not f["matches"] for f in self.funders)
        )

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "clean": self.clean}


def _read_csv(path: Path, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    try:
        with path.open(newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in columns if c not in (reader.fieldnames or [])]
            if missing:
                raise InvalidInput(
                    f"{path}: missing column {missing[0]!r} (need {', '.join(columns)})",
                    field=missing[0],
                )
            return [(number, row) for number, row in enumerate(reader, start=2)]
    except FileNotFoundError as exc:
        raise InvalidInput(f"{path}: no such file", field="file") from exc


def _pennies(path: Path, number: int, column: str, text: str) -> int:
    cleaned = text.strip()
    if not cleaned.lstrip("-").isdigit():
        raise InvalidInput(
            f"{path}:{number}: {column} must be a whole number of pennies, got {text!r}",
            field=column,
        )
    return int(cleaned)


def read_bank_statement(path: Path) -> list[BankLine]:
    """CSV with columns date, reference, amount_pence (credit > 0, debit < 0)."""
    lines = []
    for number, row in _read_csv(path, BANK_COLUMNS):
        amount = _pennies(path, number, "amount_pence", row["amount_pence"])
        reference = row["reference"].strip()
        if not reference or amount == 0:
            raise InvalidInput(
                f"{path}:{number}: a line needs a reference and a non-zero amount",
                field="reference" if not reference else "amount_pence",
            )
        lines.append(BankLine(number, row["date"].strip(), reference, amount))
    return lines


def read_remittances(path: Path) -> dict[tuple[int, str], int]:
    """CSV with columns pot_id, funder_id (0x + 64 hex), amount_pence: totals per pot/funder."""
    totals: dict[tuple[int, str], int] = defaultdict(int)
    for number, row in _read_csv(path, REMITTANCE_COLUMNS):
        funder = row["funder_id"].strip().lower()
        if len(funder) != 66 or not funder.startswith("0x"):
            raise InvalidInput(
                f"{path}:{number}: funder_id must be 0x and 64 hex digits", field="funder_id"
            )
        pot = _pennies(path, number, "pot_id", row["pot_id"])
        totals[(pot, funder)] += _pennies(path, number, "amount_pence", row["amount_pence"])
    return dict(totals)


def chain_movements(
    w3: Web3, deployment: Deployment, from_block: int | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Every Minted, Burned and Deposited event since deployment (or `from_block`)."""
    coin = deployment.contract(w3, "CareCoin")
    pots = deployment.contract(w3, "FundingPots")
    start = min(c.block for c in deployment.contracts.values())
    if from_block is not None:
        start = max(start, from_block)

    def logs(event: Any) -> list[Any]:
        return list(event.get_logs(from_block=start, to_block="latest"))

    return {
        "minted": [
            {
                "ref": "0x" + bytes(e.args.bankRef).hex(),
                "amount": e.args.amount,
                "to": e.args.to,
                "block": e.blockNumber,
            }
            for e in logs(coin.events.Minted)
        ],
        "burned": [
            {
                "ref": "0x" + bytes(e.args.payoutRef).hex(),
                "amount": e.args.amount,
                "from": e.args["from"],
                "block": e.blockNumber,
            }
            for e in logs(coin.events.Burned)
        ],
        "deposited": [
            {
                "pot": e.args.potId,
                "funder": "0x" + bytes(e.args.funderId).hex(),
                "amount": e.args.amount,
                "block": e.blockNumber,
            }
            for e in logs(pots.events.Deposited)
        ],
    }


def reconcile(
    bank: list[BankLine],
    movements: dict[str, list[dict[str, Any]]],
    remittances: dict[tuple[int, str], int] | None = None,
) -> Reconciliation:
    """Match bank credits to mints and debits to burns by reference hash, then amounts."""
    result = Reconciliation()
    unmatched = {"minted": list(movements["minted"]), "burned": list(movements["burned"])}
    for line in bank:
        kind = "minted" if line.amount > 0 else "burned"
        ref = "0x" + reference_hash(line.reference).hex()
        event = next((e for e in unmatched[kind] if e["ref"] == ref), None)
        entry = {
            "line": line.line,
            "date": line.date,
            "reference": line.reference,
            "bank_amount": line.amount,
            "kind": kind,
        }
        if event is None:
            result.bank_only.append(entry)
            continue
        unmatched[kind].remove(event)
        entry |= {"chain_amount": event["amount"], "block": event["block"]}
        if event["amount"] == abs(line.amount):
            result.matched.append(entry)
        else:
            result.amount_mismatches.append(entry)
    for kind, events in unmatched.items():
        result.chain_only.extend({"kind": kind, **e} for e in events)
    if remittances is not None:
        deposited: dict[tuple[int, str], int] = defaultdict(int)
        for e in movements["deposited"]:
            deposited[(e["pot"], e["funder"])] += e["amount"]
        for pot, funder in sorted(set(deposited) | set(remittances)):
            chain, remitted = deposited.get((pot, funder), 0), remittances.get((pot, funder), 0)
            result.funders.append(
                {
                    "pot": pot,
                    "funder": funder,
                    "deposited": chain,
                    "remitted": remitted,
                    "matches": chain == remitted,
                }
            )
    return result
