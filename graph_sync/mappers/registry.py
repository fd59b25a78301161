"""Which mapper handles which contract: the one list to extend when a contract is added.

Events without a mapper (Approval, RoleGranted, ContributionRatesSet, HourlyCapSet,
ExecutedForwardRequest...) are
still mirrored as plain `:Event` nodes with their exact arguments; they are never dropped.
"""

from __future__ import annotations

from eccoo.graph_sync.mappers import Rules, carecoin, ledger, membership, pots


def build() -> Rules:
    rules = Rules()
    for mapper in (carecoin, membership, pots, ledger):
        mapper.register(rules)
    return rules
