"""The transaction manager on a real Clique network: nonces, no duplicates, crash recovery.

The crash drill SIGKILLs a real process after it has signed (nonces taken, raw bytes
committed) and before it broadcast; a new manager on the same database finishes the job.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from eccoo.gateway.store import statements
from eccoo.gateway.store.db import Store
from eccoo.gateway.store.models import ChainTransaction
from eccoo.gateway.tx.manager import TransactionManager
from eccoo.node.keys import load_account
from eth_account import Account

pytestmark = pytest.mark.geth


def _manager(store: Store, network: Any, relayers: int = 2, **options: Any) -> TransactionManager:
    keys = [load_account(ref) for ref in network.manifest.relayers[:relayers]]
    return TransactionManager(
        store,
        network.w3(),
        keys,
        chain_id=network.manifest.chain_id,
        confirmations=2,
        poll_seconds=0.2,
        **options,
    )


def _queue_raw(tm: TransactionManager, *, to: str, dedupe_key: str) -> tuple[str, bool]:
    """Queue a plain value-less call in its own unit, as the ledger's entries do; the
    id queued under `dedupe_key` and whether this call queued it."""
    with tm.store.unit() as session:
        found = statements.queued_id(session, dedupe_key)
        if found is not None:
            return found, False
        tx = tm.queue_row(
            subject="s", kind="probe", to=to, data="0x", gas=21_000, dedupe_key=dedupe_key
        )
        tm.insert_row(session, tx)
    tm.wake()
    return tx.id, True


def _submit_n(tm: TransactionManager, n: int, tag: str) -> list[str]:
    ids = []
    for i in range(n):
        to = Account.create().address
        ids.append(_queue_raw(tm, to=to, dedupe_key=f"{tag}-{i}")[0])
    return ids


def test_transactions_confirm_with_contiguous_nonces(clique_network: Any, tmp_path: Path) -> None:
    store = Store(tmp_path / "gw.db")
    tm = _manager(store, clique_network)
    w3 = clique_network.w3()
    before = {a: w3.eth.get_transaction_count(a) for a in tm.relayers}
    tm.start()
    try:
        tag = secrets.token_hex(4)
        ids = _submit_n(tm, 12, tag)
        again = _queue_raw(tm, to=Account.create().address, dedupe_key=f"{tag}-0")
        assert again == (ids[0], False)
        final = [tm.wait(i, timeout=90) for i in ids]
    finally:
        tm.stop()
    assert {t.state for t in final} == {"confirmed"}
    for address in tm.relayers:
        nonces = sorted(t.nonce for t in final if t.relayer == address)  # type: ignore[type-var]
        assert nonces == list(range(before[address], before[address] + len(nonces)))
        assert w3.eth.get_transaction_count(address) == before[address] + len(nonces)


CRASHER = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from eccoo.gateway.store.db import Store
    from eccoo.gateway.tx.manager import TransactionManager
    from eccoo.node.keys import load_account
    from eccoo.node.manifest import load_manifest
    sys.path.insert(0, sys.argv[3])
    from network import poa_web3
    manifest = load_manifest(Path(sys.argv[1]))
    keys = [load_account(r) for r in manifest.relayers[:1]]
    tm = TransactionManager(Store(Path(sys.argv[2])), poa_web3(manifest.rpc_url(0)), keys,
                            chain_id=manifest.chain_id)
    tm.reconcile()
    tm.after_sign = lambda ids: os.kill(os.getpid(), signal.SIGKILL)
    tm.step()
    raise SystemExit("not killed")
""")


def test_crash_between_signing_and_broadcast(clique_network: Any, tmp_path: Path) -> None:
    db = tmp_path / "gw.db"
    store = Store(db)
    tm = _manager(store, clique_network, relayers=1)
    relayer = next(iter(tm.relayers))
    w3 = clique_network.w3()
    tm.reconcile()
    ids = _submit_n(tm, 3, secrets.token_hex(4))
    fixtures_dir = Path(__file__).resolve().parents[2] / "fixtures"
    proc = subprocess.run(
        [sys.executable, "-c", CRASHER, str(clique_network.dir), str(db), str(fixtures_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
    )
    assert proc.returncode == -9, proc.stderr[-2000:]
    with store.unit() as session:
        rows = [session.get(ChainTransaction, i) for i in ids]
        assert {r.state for r in rows} == {"signed"}  # type: ignore[union-attr]
        hashes = {r.tx_hash for r in rows}  # type: ignore[union-attr]
        first_nonce = min(r.nonce for r in rows)  # type: ignore[union-attr,type-var]
    # Signed and committed, but nothing reached the node before the kill.
    assert w3.eth.get_transaction_count(relayer, "pending") == first_nonce
    # Restart: reconcile, then the stored raw bytes go out; nothing is signed anew.
    tm.start()
    try:
        final = [tm.wait(i, timeout=90) for i in ids]
    finally:
        tm.stop()
    assert {t.state for t in final} == {"confirmed"}
    assert {t.tx_hash for t in final} == hashes  # the very transactions signed before the crash
    nonces = sorted(t.nonce for t in final)  # type: ignore[type-var]
    assert nonces == list(range(nonces[0], nonces[0] + 3))
    assert w3.eth.get_transaction_count(relayer) == nonces[-1] + 1  # no gap, no duplicate


class _Stop(Exception):
    pass


def test_a_transaction_the_node_lost_is_sent_again_with_the_same_bytes(
    clique_network: Any, tmp_path: Path
) -> None:
    """A transaction recorded as sent that the node does not know (its pool lost it) goes
    out again after `tx_resubmit_after_seconds`: the stored bytes, not a new signature.
    The loss is staged: the rows are marked sent without broadcasting them."""
    store = Store(tmp_path / "gw.db")
    tm = _manager(store, clique_network, relayers=1, resubmit_after_seconds=1.0)
    tm.reconcile()
    ids = _submit_n(tm, 2, secrets.token_hex(4))

    def stop(_ids: list[str]) -> None:
        raise _Stop

    tm.after_sign = stop
    with pytest.raises(_Stop):
        tm.step()
    tm.after_sign = None
    with store.unit() as session:
        for tx_id in ids:
            row = session.get(ChainTransaction, tx_id)
            assert row is not None and row.state == "signed"
            row.state, row.sent_at = "sent", time.time() - 60
        hashes = {session.get(ChainTransaction, i).tx_hash for i in ids}  # type: ignore[union-attr]
    tm.start()
    try:
        final = [tm.wait(i, timeout=90) for i in ids]
    finally:
        tm.stop()
    assert {t.state for t in final} == {"confirmed"}
    assert {t.tx_hash for t in final} == hashes
