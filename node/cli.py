"""`eccoo network ...`: the operator's commands for the cooperative nodes' Clique network.

Thin: parses flags, calls `eccoo.node.api`, prints. Expected failures are `EccooError`s
that `eccoo.cli.main` turns into one line and exit 2; nothing here prints a secret.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from eccoo.node import api
from eccoo.node.compose import write_compose
from eccoo.node.create import DEFAULT_BASE_PORT, DEFAULT_CHAIN_ID
from eccoo.node.errors import NodeError
from rich.console import Console
from rich.table import Table

app = typer.Typer(no_args_is_help=True, help="The permissioned Clique network of nodes.")
node_app = typer.Typer(no_args_is_help=True, help="Start or stop one node (drills).")
app.add_typer(node_app, name="node")
console = Console()

DirOpt = Annotated[Path, typer.Option("--dir", help="Network folder (holds manifest.json).")]


@app.command()
def init(
    dir: DirOpt,
    validators: Annotated[int, typer.Option(help="Number of genesis signers.")] = 4,
    period: Annotated[int, typer.Option(help="Seconds between blocks.")] = 1,
    chain_id: Annotated[int, typer.Option("--chain-id")] = DEFAULT_CHAIN_ID,
    gas_limit: Annotated[int, typer.Option("--gas-limit")] = 30_000_000,
    base_port: Annotated[
        int, typer.Option("--base-port", help="Node i uses base+10i (+0 http, +1 ws, +3 p2p).")
    ] = DEFAULT_BASE_PORT,
    relayers: Annotated[int, typer.Option(help="Funded relayer accounts.")] = 8,
    netrestrict: Annotated[str, typer.Option(help="CIDR peers may connect from.")] = (
        "127.0.0.0/8"
    ),
    force: Annotated[bool, typer.Option("--force", help="Replace an existing network.")] = False,
) -> None:
    """Keys, Clique genesis, funded accounts and the manifest of a new network."""
    with console.status("creating keys and genesis"):
        manifest = api.init_network(dir, validators=validators, period=period,
                                    chain_id=chain_id, gas_limit=gas_limit,
                                    base_port=base_port, relayers=relayers,
                                    netrestrict=netrestrict, force=force)  # fmt: skip
    console.print(
        f"network initialised in {manifest.dir}: chain {manifest.chain_id}, "
        f"{len(manifest.nodes)} signers, genesis {manifest.genesis_hash}"
    )


@app.command()
def start(
    dir: DirOpt,
    detach: Annotated[
        bool, typer.Option("--detach", help="Return once healthy; `stop` ends the nodes.")
    ] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for peering and sealing.")] = (
        120.0
    ),
) -> None:
    """Start every node; returns once all are peered and blocks are being sealed."""
    with console.status("starting geth nodes, waiting for peers and a sealed block"):
        manifest = api.start_network(dir, timeout=timeout)
    for node in manifest.nodes:
        console.print(f"node-{node.index}  {node.rpc_url}  {node.ws_url}  signer {node.signer}")
    if detach:
        return
    console.print("network running; Ctrl-C stops it")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        console.print(f"stopping nodes {api.stop_network(dir)}")


@app.command()
def stop(dir: DirOpt) -> None:
    """Stop every node of the network (their chain data is kept)."""
    stopped = api.stop_network(dir)
    console.print(f"stopped nodes: {stopped}" if stopped else "no node was running")


@node_app.command("start")
def node_start(dir: DirOpt, index: Annotated[int, typer.Argument()]) -> None:
    """Start one node and wait until it is peered with the running ones."""
    node = api.start_node(dir, index)
    console.print(f"node-{node.index} running at {node.rpc_url}")


@node_app.command("stop")
def node_stop(
    dir: DirOpt,
    index: Annotated[int, typer.Argument()],
    kill: Annotated[bool, typer.Option("--kill", help="SIGKILL (crash drill).")] = False,
) -> None:
    """Stop one node."""
    stopped = api.stop_node(dir, index, kill=kill)
    console.print(f"node-{index} stopped" if stopped else f"node-{index} was not running")


@app.command()
def status(
    dir: DirOpt,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Nodes, heads, peers, signers, pending votes and sealing warnings."""
    report = api.network_status(dir)
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    _print_status(report)


def _print_status(report: dict[str, Any]) -> None:
    table = Table(title=f"chain {report['chain_id']}  signers {len(report['signers'])}")
    for column in ("node", "signer", "running", "peers", "head", "hash", "rpc"):
        table.add_column(column)
    signers = {s.lower() for s in report["signers"]}
    for n in report["nodes"]:
        head = n["head"] or {}
        role = "signer" if n["signer"].lower() in signers else "node"
        table.add_row(str(n["index"]), f"{n['signer']} ({role})", "yes" if n["running"] else "no",
                      str(n["peers"] if n["peers"] is not None else "-"),
                      str(head.get("number", "-")), str(head.get("hash", "-"))[:18],
                      n["rpc_url"])  # fmt: skip
    console.print(table)
    clique = report.get("clique_status")
    if clique:
        console.print(f"clique_status: in-turn {clique.get('inturnPercent')}% of the last "
                      f"{clique.get('numBlocks')} blocks")  # fmt: skip
        for signer, count in (clique.get("sealerActivity") or {}).items():
            console.print(f"  {signer} sealed {count}")
    for address, vote in report.get("pending_votes", {}).items():
        verb = "add" if vote["authorize"] else "remove"
        console.print(f"pending vote: {verb} {address}: {vote['votes']} of {vote['needed']}")
    for warning in report.get("warnings", []):
        console.print(f"[bold yellow]warning:[/] {warning}")


@app.command()
def propose(
    dir: DirOpt,
    action: Annotated[str, typer.Argument(help="add or remove")],
    address: Annotated[str, typer.Argument(help="The signer address to vote on.")],
) -> None:
    """Cast `clique_propose` on every running signer."""
    if action not in ("add", "remove"):
        raise NodeError(f"action must be add or remove, not {action!r}", field="action")
    result = api.propose(dir, action, address)  # type: ignore[arg-type]
    console.print(
        f"proposed to {action} {result['address']} on nodes {result['voters']}; it takes "
        f"effect once {result['needed']} of {result['signers']} signers have sealed their vote"
    )


@app.command("add-node")
def add_node(
    dir: DirOpt,
    validator: Annotated[
        bool, typer.Option("--validator", help="The node will seal once voted in.")
    ] = False,
    start: Annotated[bool, typer.Option(help="Start it now if the network runs.")] = True,
) -> None:
    """Admit a new cooperative node: keys, static peers everywhere, then it syncs."""
    with console.status("creating the node and syncing it"):
        node = api.add_node(dir, validator=validator, start=None if start else False)
    console.print(f"node-{node.index} added: {node.enode}")
    if validator:
        console.print(
            f"it seals only after a majority votes it in: run\n"
            f"  eccoo network propose --dir {dir} add {node.signer}"
        )


@app.command()
def compose(
    dir: DirOpt,
    output: Annotated[Path, typer.Option(help="Where to write the compose file.")] = Path(
        "docker-compose.yml"
    ),
) -> None:
    """Write a docker-compose.yml with the same nodes, genesis and flags."""
    path = write_compose(api.load_manifest(dir), output)
    console.print(f"wrote {path}")
