"""`eccoo index run|status|rebuild|serve`: the indexer's command group.

Flags override `ECCOO_GRAPH_*` settings; errors are typed and end as one line with a
non-zero exit (see eccoo.cli.main). It never prints the Neo4j password.
"""

from __future__ import annotations

import ipaddress
import json
import signal
from pathlib import Path
from typing import Any

import typer
from eccoo.graph_sync.settings import GraphSettings
from eccoo.graph_sync.status import KEYS, read_status
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from eccoo.errors import ConfigError

app = typer.Typer(no_args_is_help=True, help="The graph mirror of the ledger (Neo4j).")
console = Console()

_NETWORK = typer.Option(None, "--network-dir", help="network folder (manifest, deployment.json)")
_DATA = typer.Option(None, "--data-dir", help="where the indexer keeps its status file")
_RPC = typer.Option(None, "--rpc-url", help="node JSON-RPC URL (default: node 0 of the network)")
_BOLT = typer.Option(None, "--bolt-url", help="Neo4j Bolt URL")
_PASSWORD = typer.Option(None, "--neo4j-password-file", help="file holding the Neo4j password")
_DEPLOYMENT = typer.Option(None, "--deployment-file", help="deployment.json (default: in network)")


def _settings(**flags: Any) -> GraphSettings:
    overrides = {k: v for k, v in flags.items() if v is not None}
    try:
        return GraphSettings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "settings"
        raise ConfigError(f"invalid setting {where}: {first.get('msg')}", field=where) from None


@app.command()
def run(
    network_dir: Path = _NETWORK,
    data_dir: Path = _DATA,
    rpc_url: str = _RPC,
    bolt_url: str = _BOLT,
    neo4j_password_file: Path = _PASSWORD,
    deployment_file: Path = _DEPLOYMENT,
    confirmations: int = typer.Option(None, help="unfinalized window, in blocks"),
    until_block: int = typer.Option(None, help="stop once this block is indexed"),
    once: bool = typer.Option(False, "--once", help="stop at the head instead of following"),
) -> None:
    """Index from the deployment block to the head, then follow new blocks."""
    from eccoo.graph_sync.indexer import Indexer

    settings = _settings(
        network_dir=network_dir,
        data_dir=data_dir,
        rpc_url=rpc_url,
        bolt_url=bolt_url,
        neo4j_password_file=neo4j_password_file,
        deployment_file=deployment_file,
        confirmations=confirmations,
    )
    indexer = Indexer(settings)

    def stop(_sig: int, _frame: object) -> None:
        indexer.stop_event.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    with indexer:
        console.print(
            f"indexing from block {indexer.deployment.start_block} "
            f"(chain {indexer.deployment.chain_id}); status in {settings.status_file}"
        )
        indexer.run(until_block=until_block, once=once)
    indexer.status.set(state="stopped")


@app.command()
def status(
    data_dir: Path = _DATA,
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """Cursor, head, lag, events per second and last error of the indexer."""
    directory = data_dir or GraphSettings.model_fields["data_dir"].default_factory()  # type: ignore[misc]
    found = read_status(Path(directory) / "status.json")
    if found is None:
        found = {key: None for key in KEYS} | {"state": "never run", "running": False}
    if as_json:
        typer.echo(json.dumps(found, sort_keys=True))
        return
    for key in ("state", "running", *KEYS, "events_total", "retries", "reorgs"):
        console.print(f"{key:18} {found.get(key)}", highlight=False)


@app.command()
def rebuild(
    network_dir: Path = _NETWORK,
    data_dir: Path = _DATA,
    rpc_url: str = _RPC,
    bolt_url: str = _BOLT,
    neo4j_password_file: Path = _PASSWORD,
    deployment_file: Path = _DEPLOYMENT,
    follow: bool = typer.Option(False, "--follow", help="keep following afterwards"),
) -> None:
    """Drop the mirror (never off-chain data) and re-index from the deployment block."""
    from eccoo.graph_sync.indexer import Indexer

    settings = _settings(
        network_dir=network_dir,
        data_dir=data_dir,
        rpc_url=rpc_url,
        bolt_url=bolt_url,
        neo4j_password_file=neo4j_password_file,
        deployment_file=deployment_file,
    )
    indexer = Indexer(settings)
    from eccoo.graph_sync.connect import open_graph
    from eccoo.graph_sync.write import GraphWriter

    driver = open_graph(settings)
    try:
        dropped = GraphWriter(driver, settings.neo4j_database, indexer.rules).drop_mirror()
    finally:
        driver.close()
    console.print(f"dropped {dropped} mirrored nodes")
    with indexer:
        head = indexer.rpc.block_number()
        start = indexer.deployment.start_block
        with Progress(
            TextColumn("re-indexing"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("blocks"),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("blocks", total=max(1, head - start + 1))

            def advance(cursor: int, _head: int) -> None:
                progress.update(task, completed=max(0, cursor - start + 1))

            indexer.run(until_block=head, on_progress=advance)
        if follow:
            indexer.run()
    console.print(f"rebuilt up to block {indexer.status.state['cursor']}")


def _require_loopback(host: str) -> None:
    """The operators' GraphQL answers for every member without a token: it must never
    listen where anyone but this machine can reach it."""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ConfigError(
            f"eccoo index serve listens on loopback only, not {host}: it has no sign-in; "
            "members use the gateway's /api/v1/graphql",
            field="host",
        )


@app.command()
def serve(
    bolt_url: str = _BOLT,
    neo4j_password_file: Path = _PASSWORD,
    host: str = typer.Option(
        "127.0.0.1", help="listen address: loopback only (127.0.0.1, ::1 or localhost)"
    ),
    port: int = typer.Option(8700, help="listen port"),
) -> None:
    """For operators: serve the read-only GraphQL API over the whole mirror (at /graphql),
    on loopback only. It checks no token and answers for any address; members use the
    gateway's /api/v1/graphql, scoped to them."""
    _require_loopback(host)
    import uvicorn
    from eccoo.graph_sync.connect import open_graph
    from eccoo.graph_sync.graphql import create_app

    from eccoo.services.process import require_free_ports

    settings = _settings(
        bolt_url=bolt_url,
        neo4j_password_file=neo4j_password_file,
        rpc_url="http://unused",
        deployment_file=Path("unused"),
    )
    require_free_ports({"graphql": port}, host)
    driver = open_graph(settings)
    try:
        uvicorn.run(
            create_app(driver, settings.neo4j_database), host=host, port=port, log_level="warning"
        )
    finally:
        driver.close()
