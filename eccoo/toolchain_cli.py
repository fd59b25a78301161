"""`eccoo setup`: install every pinned engine into the cache, with progress."""

from __future__ import annotations

import time

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from eccoo.engines import STEPS, engine_paths
from eccoo.settings import EccooSettings

console = Console()


def setup(
    only: list[str] = typer.Option(None, help="install only engines whose name contains this"),
) -> None:
    """Install geth, solc, OpenZeppelin, Neo4j and Keycloak into the engine cache."""
    settings = EccooSettings()
    paths = engine_paths(settings)
    paths.root.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        for label, step in STEPS:
            if only and not any(word.lower() in label.lower() for word in only):
                continue
            task = progress.add_task(f"{label}", total=1)
            where = step(paths)
            progress.update(task, completed=1, description=f"{label} [dim]{where}[/]")
    console.print(f"engines ready in {time.monotonic() - started:.1f}s under {paths.root}")


def register(app: typer.Typer) -> None:
    app.command("setup")(setup)
