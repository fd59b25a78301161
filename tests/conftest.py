"""Root of the test suite: loads the shared fixture modules in tests/fixtures/.

Fixture modules are plain modules, importable as `fixtures.<name>` because pytest's
`pythonpath` includes tests/.
"""

from __future__ import annotations

pytest_plugins = [
    "fixtures.services",
    "fixtures.network",
    "fixtures.ledger",
    "fixtures.identity",
]
