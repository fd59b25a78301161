"""`/transactions/{id}`: the state of a transaction the caller submitted.

Another member's transaction answers 404, exactly like a missing one.
"""

from __future__ import annotations

from eccoo.gateway.api.deps import CurrentMember, ServicesDep
from eccoo.gateway.api.schemas import TransactionPublic
from eccoo.gateway.api.submission import transaction_public
from eccoo.gateway.errors import ObjectNotFound
from eccoo.gateway.store.models import ChainTransaction
from fastapi import APIRouter

router = APIRouter(tags=["transactions"])


@router.get(
    "/transactions/{tx_id}", response_model=TransactionPublic, operation_id="read_transaction"
)
def read_transaction(tx_id: str, member: CurrentMember, services: ServicesDep) -> TransactionPublic:
    with services.store.read() as session:
        tx = session.get(ChainTransaction, tx_id)
        if tx is None or tx.subject != member.subject:
            raise ObjectNotFound("no such transaction", field="tx_id")
        return transaction_public(tx)
