"""`eccoo up`, `down`, `status` and `test`: the whole local stack and the whole suite."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from eccoo.settings import REPO_ROOT, EccooSettings
from eccoo.stack import Stack, StackSettings

console = Console()
DataDir = typer.Option(None, "--data-dir", help="state folder (default .eccoo)")


def _stack(data_dir: Path | None) -> Stack:
    return Stack(data_dir or EccooSettings().data_dir, StackSettings())


def up(
    data_dir: Path | None = DataDir,
    detach: bool = typer.Option(False, "--detach", help="return once everything is healthy"),
) -> None:
    """Start the network, Neo4j, Keycloak and everything built on them; Ctrl-C stops all."""
    stack = _stack(data_dir)
    started = time.monotonic()
    table = Table("component", "endpoint", title="eccoo is up")
    seen: dict[str, Any] = {}
    try:
        for name, step in stack.steps():
            with console.status(f"starting {name}..."):
                t0 = time.monotonic()
                info = step()
            console.print(f"[green]✓[/] {name} ({time.monotonic() - t0:.1f}s)")
            seen.update(info)
            where = (
                info.get("rpc_url")
                or info.get("bolt_url")
                or info.get("issuer")
                or info.get("url")
                or ", ".join(info.get("contracts", []))
                or info.get("log")
            )
            table.add_row(name, str(where))
    except BaseException:
        if not detach:
            console.print("[red]start failed; stopping what was started[/]")
            stack.down()
        raise
    console.print(table)
    if "web" in seen:
        console.print(f"member web pages: [bold]{seen['web']}[/]")
        for user, password_file in sorted(seen.get("demo_users", {}).items()):
            console.print(f"  sign in as [bold]{user}[/], password in {password_file}")
    console.print(f"ready in {time.monotonic() - started:.1f}s; data in {stack.data_dir}")
    if detach:
        console.print("stop it with [bold]eccoo down[/]")
        return
    console.print("press Ctrl-C to stop everything")
    stop_requested = False

    def _request_stop(signum: int, frame: object) -> None:
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGTERM, _request_stop)
    try:
        while not stop_requested:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    with console.status("stopping..."):
        stopped = stack.down()
    console.print(f"stopped: {', '.join(stopped) or 'nothing was running'}")


def down(data_dir: Path | None = DataDir) -> None:
    """Stop a detached stack."""
    with console.status("stopping..."):
        stopped = _stack(data_dir).down()
    console.print(f"stopped: {', '.join(stopped) or 'nothing was running'}")


def status(
    data_dir: Path | None = DataDir,
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """Every component with its endpoint and health."""
    report = _stack(data_dir).status()
    if as_json:
        typer.echo(json.dumps(report, indent=2, default=str))
        return
    table = Table("component", "healthy", "endpoint")
    for name, entry in report.items():
        where = (
            entry.get("rpc_url")
            or entry.get("bolt_url")
            or entry.get("issuer")
            or entry.get("url")
            or entry.get("detail")
            or ""
        )
        if name == "network" and entry.get("nodes"):
            where = entry["nodes"][0].get("rpc_url", "")
        table.add_row(name, "yes" if entry.get("healthy") else "no", str(where))
    console.print(table)


def test(
    args: list[str] = typer.Argument(None, help="extra pytest arguments"),
) -> None:
    """Run the whole test suite against real engines (what CI runs)."""
    argv = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *(args or [])]
    console.print(f"running: {' '.join(argv[2:])}")
    result = subprocess.run(argv, cwd=REPO_ROOT, check=False)
    if result.returncode == 5:  # pytest: no tests collected
        console.print("[red]no tests were collected[/]")
        raise typer.Exit(1)
    raise typer.Exit(result.returncode)


def register(app: typer.Typer) -> None:
    app.command("up")(up)
    app.command("down")(down)
    app.command("status")(status)
    app.command(
        "test", context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
    )(test)
