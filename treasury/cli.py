"""`eccoo treasury ...`: the treasurer's commands over the book and the chain.

import (a bank statement), match (read the chain, match, suggest), confirm / split /
reject (the treasurer's decisions), lock (close a month), report (a month's
reconciliation), and the one-shot `reconcile`. Errors are one line (eccoo/cli.py); tables
and progress go to the terminal only, and statement contents are never sent anywhere.
"""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Annotated

import typer
from eccoo.treasury import matching, tables
from eccoo.treasury.book import Book, check_period
from eccoo.treasury.chain import sync_movements
from eccoo.treasury.errors import InvalidDecision, UnknownRecord
from eccoo.treasury.importing import import_statement
from eccoo.treasury.invoices import invoices_of, issue_invoices, write_invoice_csv
from eccoo.treasury.periods import lock_period
from eccoo.treasury.reconcile_cli import reconcile_command
from eccoo.treasury.report import period_report
from eccoo.treasury.settings import TreasurySettings
from eccoo.treasury.statements import load_profile, read_statement
from eccoo.treasury.tables import pounds
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

app = typer.Typer(no_args_is_help=True, help="Treasurer tools: statements, matching, months.")
app.command("reconcile")(reconcile_command)
console = Console()

BookOpt = Annotated[Path | None, typer.Option("--book", help="the book (default: settings)")]
WhoOpt = Annotated[str | None, typer.Option("--as", help="who decides (default: your login)")]
PeriodOpt = Annotated[str, typer.Option("--period", help="the month, YYYY-MM")]
NetworkOpt = Annotated[Path, typer.Option("--network-dir", help="network folder")]
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]


def _book(path: Path | None) -> tuple[Book, TreasurySettings]:
    settings = TreasurySettings()
    return Book(path or settings.book_path), settings


def _who(name: str | None) -> str:
    return name or getpass.getuser()


def _sync(
    book: Book,
    settings: TreasurySettings,
    network_dir: Path,
    rpc_url: str | None,
    from_block: int | None = None,
) -> None:
    from eccoo.client.deploy import poa_web3
    from eccoo.client.deployment import load_deployment
    from eccoo.node.manifest import load_manifest

    deployment = load_deployment(network_dir)
    w3 = poa_web3(rpc_url or load_manifest(network_dir).rpc_url(0))
    columns = (TextColumn("reading the chain"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("blocks", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        result = sync_movements(
            book, w3, deployment, settings, progress=advance, from_block=from_block
        )
    console.print(
        f"read blocks {result.from_block}..{result.to_block}: {result.movements} new movements"
    )


@app.command("import")
def import_command(
    statement: Annotated[Path, typer.Argument(help="a CSV, OFX or camt.053 XML statement")],
    fmt: Annotated[str | None, typer.Option("--format", help="csv, ofx or camt053")] = None,
    profile: Annotated[str, typer.Option(help="CSV column profile: name or JSON file")] = "uk-bank",
    account: Annotated[str, typer.Option(help="the bank account, if the file does not say")] = "",
    book_late: Annotated[
        bool, typer.Option("--book-late", help="book lines of a locked month into the open one")
    ] = False,
    book_path: BookOpt = None,
    who: WhoOpt = None,
) -> None:
    """Imports a bank statement: all of its new lines, or none if anything is wrong."""
    read = read_statement(statement, fmt, profile=load_profile(profile), account=account)
    book, _ = _book(book_path)
    with book:
        result = import_statement(book, read, statement, who=_who(who), book_late=book_late)
    console.print(
        f"{statement.name}: {result.added} lines added, {result.skipped} already in the book"
        + (f", {result.booked_late} booked late" if result.booked_late else "")
    )


@app.command("match")
def match_command(
    network_dir: NetworkOpt,
    period: Annotated[str | None, typer.Option(help="show this month only")] = None,
    rpc_url: Annotated[str | None, typer.Option(help="node to read (default: node 0)")] = None,
    from_block: Annotated[
        int | None, typer.Option(help="where a new book starts (default: the deployment)")
    ] = None,
    book_path: BookOpt = None,
    who: WhoOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Reads new chain movements, matches by reference and amount, suggests the rest."""
    book, settings = _book(book_path)
    with book:
        _sync(book, settings, network_dir, rpc_url, from_block)
        linked = matching.auto_match(book, _who(who))
        month = check_period(period) if period else None
        found = matching.suggestions(book, days=settings.suggest_days, period=month)
        states = matching.line_states(book, month)
        if as_json:
            typer.echo(
                json.dumps(
                    {
                        "auto_matched": linked,
                        "suggestions": [s.__dict__ for s in found],
                        "lines": [s.__dict__ for s in states],
                    },
                    indent=2,
                )
            )
            return
        console.print(f"matched by reference and amount: {linked}")
        console.print(tables.lines_table(states))
        if found:
            console.print(tables.suggestions_table(book, found))


@app.command("confirm")
def confirm_command(
    line: Annotated[int | None, typer.Argument(help="the bank line")] = None,
    movements: Annotated[list[int] | None, typer.Argument(help="movement(s) to match")] = None,
    period: Annotated[str | None, typer.Option(help="reconcile every cleared line")] = None,
    book_path: BookOpt = None,
    who: WhoOpt = None,
) -> None:
    """LINE MOVEMENT: match a line by hand. LINE alone, or --period: reconcile cleared lines."""
    book, _ = _book(book_path)
    with book:
        if line is not None and movements:
            matching.confirm(book, line, movements, _who(who))
            state = next(s for s in matching.line_states(book) if s.id == line)
            console.print(f"line {line} is {state.state} (bank minus chain: {state.difference})")
            return
        if line is None and period is None:
            raise InvalidDecision("give LINE [MOVEMENT...] or --period", field="line")
        if period is None:
            row = book.db.execute("SELECT period FROM bank_lines WHERE id = ?", (line,)).fetchone()
            if row is None:
                raise UnknownRecord(f"no bank line {line} in the book", field="line")
            month = row["period"]
        else:
            month = check_period(period)
        done = matching.reconcile_cleared(
            book, month, _who(who), [line] if line is not None else None
        )
        console.print(f"{month}: {len(done)} lines reconciled")


@app.command("split")
def split_command(
    line: Annotated[int, typer.Argument(help="the bank line")],
    movements: Annotated[list[int], typer.Argument(help="the movements it pays for")],
    book_path: BookOpt = None,
    who: WhoOpt = None,
) -> None:
    """Splits one bank line across several mints or burns that add up to it."""
    book, _ = _book(book_path)
    with book:
        matching.split(book, line, movements, _who(who))
    console.print(f"line {line} split across movements {', '.join(map(str, movements))}")


@app.command("reject")
def reject_command(
    line: Annotated[int, typer.Argument(help="the bank line")],
    movement: Annotated[int, typer.Argument(help="the movement")],
    reason: Annotated[str, typer.Option(help="why, for the record")] = "",
    book_path: BookOpt = None,
    who: WhoOpt = None,
) -> None:
    """Undoes a match, or turns down a suggestion so it is not offered again."""
    book, _ = _book(book_path)
    with book:
        matching.reject(book, line, movement, _who(who), reason)
    console.print(f"line {line} and movement {movement} are not a match")


@app.command("lock")
def lock_command(
    period: PeriodOpt,
    network_dir: Annotated[
        Path | None, typer.Option("--network-dir", help="read the chain first")
    ] = None,
    rpc_url: Annotated[str | None, typer.Option(help="node to read (default: node 0)")] = None,
    book_path: BookOpt = None,
    who: WhoOpt = None,
) -> None:
    """Locks a reconciled month: nothing in it changes afterwards."""
    book, settings = _book(book_path)
    with book:
        if network_dir is not None:
            _sync(book, settings, network_dir, rpc_url)
        lock_period(book, period, _who(who))
    console.print(f"[green]{check_period(period)} is locked[/]")


@app.command("report")
def report_command(period: PeriodOpt, book_path: BookOpt = None, as_json: JsonOpt = False) -> None:
    """A month's reconciliation: balances, matched, unmatched, and unbacked coin (must be 0)."""
    book, _ = _book(book_path)
    with book:
        report = period_report(book, check_period(period))
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
        return
    tables.print_report(console, report)


@app.command("invoice")
def invoice_command(
    period: PeriodOpt,
    out: Annotated[Path, typer.Option("--out", help="folder for the CSV files")],
    force: Annotated[bool, typer.Option("--force", help="overwrite existing files")] = False,
    book_path: BookOpt = None,
    who: WhoOpt = None,
) -> None:
    """Issues a locked month's invoices to funders (once) and writes them as CSV."""
    book, _ = _book(book_path)
    with book:
        month = check_period(period)
        found = invoices_of(book, month) or issue_invoices(book, month, _who(who))
    for invoice in found:
        path = write_invoice_csv(invoice, out, force=force)
        console.print(f"{invoice.number}: pot {invoice.pot}, {pounds(invoice.total)} -> {path}")
    if not found:
        console.print(f"{month}: no visits were paid, no invoices")
