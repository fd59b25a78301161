"""Root of the test suite: loads the shared fixture modules in tests/fixtures/.

Fixture modules are plain modules (importable as `fixtures.<name>` because pytest's
`pythonpath` includes tests/); a module that does not exist yet is skipped.
"""

from __future__ import annotations

from importlib.util import find_spec

pytest_plugins = [
    name
    for name in (
        "fixtures.services",
        "fixtures.network",
        "fixtures.ledger",
        "fixtures.graph",
        "fixtures.identity",
    )
    if find_spec(name) is not None
]
