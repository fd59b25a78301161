"""A transaction's progress page, where every form's redirect lands: queued, sent,
confirmed or reverted, in plain words. While it is on its way the page refreshes itself
(`<meta http-equiv="refresh">`), so it needs no JavaScript.

It reads the transaction through the API's own `read_transaction`: another member's
transaction is 404, like a missing one.
"""

from __future__ import annotations

from typing import Annotated

from eccoo.client.vocabulary import TxState
from eccoo.gateway.api.deps import ServicesDep
from eccoo.gateway.api.routes.transactions import read_transaction
from eccoo.gateway.web import words
from eccoo.gateway.web.deps import WebCaller
from eccoo.gateway.web.render import gettext as _
from eccoo.gateway.web.render import page
from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)
REFRESH_SECONDS = 2


@router.get("/web/transactions/{tx_id}")
async def transaction_page(
    request: Request,
    tx_id: str,
    caller: WebCaller,
    services: ServicesDep,
    appointment: Annotated[int, Query(gt=0, lt=2**63)] | None = None,
) -> HTMLResponse:
    tx = await run_in_threadpool(read_transaction, tx_id, caller.member, services)
    state = TxState(tx.state)
    reverted = state in (TxState.REVERTED, TxState.FAILED)
    return page(
        request,
        "transaction.html",
        title=words.transaction_kind(tx.kind),
        state=state.value,
        state_words=words.transaction_state(state.value),
        pending=not state.is_final,
        refresh_seconds=REFRESH_SECONDS,
        reason=words.revert_reason(tx.error) if reverted else "",
        done=state is TxState.CONFIRMED,
        appointment=appointment,
        back_label=_("Back to appointment %(number)s", number=appointment) if appointment else "",
    )
