"""The member gateway: OpenID Connect sign-in in front, the member's ledger transactions behind.

Calls go one way, following a request:
  web/ (pages) and api/ (REST, GraphQL, event stream)
    -> identity/ (tokens, members, onboarding, wallet custody, the realm, terminal sign-in)
    -> tx/ (ledger calls, the transaction manager and its worker, relayers, receipts)
    -> store/ (SQLite: members, keys, idempotency records, the transaction queue)
`notes.py` keeps care notes in Neo4j; `parts.py` builds the long-lived parts from `settings.py`.
"""
