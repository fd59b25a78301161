"""The `eccoo` command: one entry point, one sub-command group per component.

Errors that eccoo raises on purpose become one line on stderr and a non-zero exit;
only bugs print a traceback.
"""

from __future__ import annotations

import sys
from importlib import import_module

import typer
from rich.console import Console
from rich.markup import escape

from eccoo.errors import EccooError

app = typer.Typer(
    name="eccoo",
    help="eccoo: care cooperative ledger, graph and identity, on real engines.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
err_console = Console(stderr=True)

# Each component owns its command group in its own package; this list only wires them.
# A module either exposes `register(app)` (top-level commands) or a Typer `app` (a group).
_GROUPS = [
    ("eccoo.toolchain_cli", "register", None),
    ("eccoo.stack_cli", "register", None),
    ("eccoo.services.cli", "app", "services"),
    ("eccoo.node.cli", "app", "network"),
    ("eccoo.client.cli", "app", "contracts"),
    ("eccoo.treasury.cli", "app", "treasury"),
    ("eccoo.graph_sync.cli", "app", "index"),
    ("eccoo.gateway.cli", "app", "gateway"),
]


def _mount() -> None:
    for module_name, attr, group in _GROUPS:
        module = import_module(module_name)
        if group is None:
            getattr(module, attr)(app)
        else:
            app.add_typer(getattr(module, attr), name=group)


@app.callback()
def _root() -> None:
    """eccoo: care cooperative ledger, graph and identity, on real engines."""


_mount()


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; an `EccooError` becomes `error: <message>` and exit code 2."""
    try:
        app(args=argv)
    except EccooError as exc:
        field = escape(f" [{exc.field}]") if exc.field else ""
        first_line = exc.message.splitlines()[0] if exc.message else type(exc).__name__
        err_console.print(
            f"[bold red]error{field}:[/] {escape(first_line)}", highlight=False, soft_wrap=True
        )
        rest = exc.message.splitlines()[1:]
        if rest:
            err_console.print("\n".join(rest), highlight=False, markup=False, style="dim")
        sys.exit(2)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
