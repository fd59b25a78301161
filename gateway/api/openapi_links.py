"""OpenAPI links: how one operation's answer feeds the next.

A client (and schemathesis's stateful tests) can follow them: a 202 submission to its
transaction, a new care note to reading, sharing and erasing it, a hat request to its
approval. Only ids from the response body travel; never content.
"""

from __future__ import annotations

from typing import Any

from eccoo.gateway.api.schemas import SubmissionPublic


def _links(status: int, **links: tuple[str, dict[str, str]]) -> dict[int | str, dict[str, Any]]:
    return {
        status: {
            "links": {
                name: {"operationId": operation, "parameters": parameters}
                for name, (operation, parameters) in links.items()
            },
        }
    }


# Every ledger-changing POST answers 202 with the queued transaction.
SUBMITTED = _links(
    202, transaction=("read_transaction", {"tx_id": "$response.body#/transaction/id"})
)

# The route options every ledger-changing POST shares: `@router.post(path, **ACCEPTED)`.
ACCEPTED: dict[str, Any] = {
    "response_model": SubmissionPublic,
    "status_code": 202,
    "responses": SUBMITTED,
}

NOTE_WRITTEN = _links(
    201,
    read=("read_note", {"note_id": "$response.body#/note/id"}),
    share=("grant_reader", {"note_id": "$response.body#/note/id"}),
    audit=("note_audit", {"note_id": "$response.body#/note/id"}),
    erase=("erase_note", {"note_id": "$response.body#/note/id"}),
)

NOTE_DRAFTED = _links(201, sign=("sign_note_draft", {"draft_id": "$response.body#/id"}))

HAT_REQUESTED = _links(
    201,
    approve=("approve_hat", {"request_id": "$response.body#/id"}),
    decline=("decline_hat", {"request_id": "$response.body#/id"}),
)

MEMBER = _links(200, approve=("approve_member", {"subject": "$response.body#/subject"}))
