"""`eccoo services start|stop|status [neo4j|keycloak]`: the engines, one at a time or all."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from eccoo.services.keycloak import KeycloakService, KeycloakSettings
from eccoo.services.neo4j import Neo4jService, Neo4jSettings
from eccoo.settings import EccooSettings

app = typer.Typer(no_args_is_help=True, help="Run Neo4j and Keycloak as local processes.")
console = Console()


class Engine(StrEnum):
    neo4j = "neo4j"
    keycloak = "keycloak"


def services_for(data_dir: Path | None) -> dict[str, Neo4jService | KeycloakService]:
    """The services of one data folder (default: ECCOO_DATA_DIR or <repo>/.eccoo)."""
    eccoo = EccooSettings(data_dir=data_dir) if data_dir else EccooSettings()
    neo4j_settings = Neo4jSettings(data_dir=eccoo.data_dir / "neo4j")
    keycloak_settings = KeycloakSettings(data_dir=eccoo.data_dir / "keycloak")
    return {
        "neo4j": Neo4jService(neo4j_settings, eccoo),
        "keycloak": KeycloakService(keycloak_settings, eccoo),
    }


def _pick(which: Engine | None, data_dir: Path | None) -> dict[str, Neo4jService | KeycloakService]:
    services = services_for(data_dir)
    return {k: v for k, v in services.items() if which is None or k == which.value}


DataDir = typer.Option(None, "--data-dir", help="state folder (default .eccoo)")


@app.command()
def start(which: Engine | None = typer.Argument(None), data_dir: Path | None = DataDir) -> None:
    """Start Neo4j and/or Keycloak and wait until each answers."""
    for name, service in _pick(which, data_dir).items():
        with console.status(f"starting {name}..."):
            endpoint = service.start()
        console.print(f"[green]{name}[/] ready: {endpoint.to_dict()}")


@app.command()
def stop(which: Engine | None = typer.Argument(None), data_dir: Path | None = DataDir) -> None:
    """Stop Neo4j and/or Keycloak."""
    for name, service in _pick(which, data_dir).items():
        stopped = service.stop()
        console.print(f"{name}: {'stopped' if stopped else 'was not running'}")


@app.command()
def status(
    which: Engine | None = typer.Argument(None),
    data_dir: Path | None = DataDir,
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """Report each engine's endpoint and health."""
    report = {name: service.status() for name, service in _pick(which, data_dir).items()}
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    table = Table("service", "healthy", "endpoint", "log")
    for name, entry in report.items():
        where = entry.get("bolt_url") or entry.get("issuer")
        table.add_row(name, "yes" if entry["healthy"] else "no", str(where), entry["log"])
    console.print(table)
