"""`eccoo contracts ...`: compile the ledger contracts and deploy them to a network.

A thin shell over `eccoo.client`: it parses options, shows progress and prints results.
It never prints a key or a password, and raises EccooError subclasses for expected failures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from eccoo.client.settings import ContractsSettings
from rich.console import Console

app = typer.Typer(no_args_is_help=True, help="The ledger contracts: compile and deploy.")
console = Console(stderr=True)

NetworkDir = Annotated[
    Path, typer.Option("--network-dir", help="Folder of the network (holds manifest.json).")
]


@app.command("compile")
def compile_command(
    build_dir: Annotated[Path | None, typer.Option(help="Where to write artifacts.")] = None,
) -> None:
    """Compile contracts/ with solc 0.8.28 (paris) into the build folder."""
    from eccoo.client.artifacts import compile_artifacts

    settings = ContractsSettings() if build_dir is None else ContractsSettings(build_dir=build_dir)
    with console.status("compiling contracts"):
        artifacts = compile_artifacts(settings)
    for name, artifact in sorted(artifacts.items()):
        size = (len(artifact.bytecode) - 2) // 2
        typer.echo(f"{name:<14} {size:>6} bytes of creation code")
    typer.echo(f"artifacts in {settings.build_dir}")


@app.command("deploy")
def deploy_command(
    network_dir: NetworkDir,
    force: Annotated[bool, typer.Option(help="Deploy anew over an existing deployment.")] = False,
) -> None:
    """Deploy and wire the contracts once; run again to verify the deployment."""
    from eccoo.client.deploy import deploy
    from eccoo.client.deployment import deployment_path

    with console.status("deploying") as status:
        deployment = deploy(network_dir, settings=ContractsSettings(), force=force,
                            progress=lambda step: status.update(step))  # fmt: skip
    for key, entry in deployment.contracts.items():
        typer.echo(f"{key:<12} {entry.address}  block {entry.block}")
    typer.echo(f"chain {deployment.chain_id}; verified; record in {deployment_path(network_dir)}")


@app.command("show")
def show_command(network_dir: NetworkDir) -> None:
    """Print the addresses recorded in DIR/deployment.json (no node needed)."""
    from eccoo.client.deployment import load_deployment

    deployment = load_deployment(network_dir)
    for key, entry in deployment.contracts.items():
        typer.echo(f"{key:<12} {entry.address}  block {entry.block}  tx {entry.tx}")
