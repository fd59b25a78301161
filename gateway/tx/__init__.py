"""The transaction pipeline: `Ledger` (contract calls and queueing), the manager and its
worker process, relayers with managed nonces, receipts, forward-request building and
signing, calldata, revert decoding. Called by api/ and identity/; calls only store/.
"""
