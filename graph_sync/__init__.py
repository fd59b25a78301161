"""graph_sync: an exact, reorg-safe mirror of every ledger event in Neo4j.

Read it in the order an event travels: fetch -> decode -> mappers -> write -> cursor
(reorgs), driven by `indexer`. It never writes anything the chain does not hold.
"""
