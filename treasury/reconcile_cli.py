"""`eccoo treasury reconcile`: the one-shot check of the ledger against a bank CSV and the
funders' remittances, without a book (the book's commands are in cli.py).

Exit status 0 when everything matches, 1 when something is left over (so a scheduled
run can alert), 2 on bad input. Statement files are read locally and never sent anywhere.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from eccoo.client.deploy import poa_web3
from eccoo.client.deployment import load_deployment
from eccoo.client.reconcile import (
    Reconciliation,
    chain_movements,
    read_bank_statement,
    read_remittances,
    reconcile,
)
from rich.console import Console
from rich.table import Table

console = Console()


def reconcile_command(
    network_dir: Annotated[Path, typer.Option("--network-dir", help="network folder")],
    bank_csv: Annotated[Path, typer.Option("--bank-csv", help="date,reference,amount_pence")],
    remittances_csv: Annotated[
        Path | None, typer.Option("--remittances-csv", help="pot_id,funder_id,amount_pence")
    ] = None,
    rpc_url: Annotated[str | None, typer.Option(help="node to read (default: node 0)")] = None,
    from_block: Annotated[
        int | None, typer.Option(help="start of the period (default: deployment)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Match bank credits to mints, debits to burns, and funders' remittances to deposits."""
    bank = read_bank_statement(bank_csv)
    remittances = read_remittances(remittances_csv) if remittances_csv else None
    deployment = load_deployment(network_dir)
    if rpc_url is None:
        from eccoo.node.manifest import load_manifest

        rpc_url = load_manifest(network_dir).rpc_url(0)
    with console.status("reading the ledger..."):
        movements = chain_movements(poa_web3(rpc_url), deployment, from_block)
    result = reconcile(bank, movements, remittances)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
    else:
        _print(result)
    raise typer.Exit(0 if result.clean else 1)


def _print(result: Reconciliation) -> None:
    console.print(f"matched: {len(result.matched)} bank lines")
    for title, rows in (
        ("amount differs", result.amount_mismatches),
        ("on the bank statement only", result.bank_only),
        ("on chain only", result.chain_only),
    ):
        if not rows:
            continue
        table = Table(*rows[0].keys(), title=title)
        for row in rows:
            table.add_row(*(str(v) for v in row.values()))
        console.print(table)
    if result.funders:
        table = Table(
            "pot", "funder", "deposited", "remitted", "matches", title="funders' remittances"
        )
        for f in result.funders:
            table.add_row(
                str(f["pot"]),
                f["funder"],
                str(f["deposited"]),
                str(f["remitted"]),
                "yes" if f["matches"] else "NO",
            )
        console.print(table)
    console.print("[green]all reconciled[/]" if result.clean else "[red]not reconciled[/]")
