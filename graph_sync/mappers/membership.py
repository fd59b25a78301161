"""Membership events -> members, hats worn, arrangers, circles and circle roles.

Who wears what, who arranges for whom and who sits in which circle are interval
relationships (`block` .. `until`), so every question can be asked as of a block.
"""

from __future__ import annotations

from eccoo.client.vocabulary import HAT_KEYS
from eccoo.graph_sync.decode import LedgerEvent
from eccoo.graph_sync.mappers import (
    CLOSE,
    OPEN,
    ZERO_ADDRESS,
    Rules,
    Template,
    close_latest,
    entity,
    link,
    open_interval,
)

CONTRACT = "Membership"
ZERO_ID = "0x" + "00" * 32
HAT_NAMES = list(HAT_KEYS)  # numbered as the contracts number them
CIRCLE_ROLES = ["none", "member", "rep_link", "lead_link"]

_BY = entity("by", "Account", "address", "row.by") + link("BY", "e", "by")

_HAT = (
    "MERGE (h:Hat:Mirror {id: row.hat}) ON CREATE SET h.block = row.block, h.name = row.hat_name\n"
    "FOREACH (_ IN CASE WHEN row.block < h.block THEN [1] ELSE [] END | SET h.block = row.block)\n"
)

MEMBER_REGISTERED = Template(
    "MemberRegistered",
    "SET e.account = row.account, e.member_id = row.member_id\n"
    + entity("a", "Account", "address", "row.account")
    + "SET a.member_id = row.member_id, a.member_id_block = row.block\n"
    + link("REGISTERED", "e", "a")
    + _BY,
)

SYSTEM_ACCOUNT = Template(
    "SystemAccountRegistered",
    "SET e.account = row.account\n"
    + entity("a", "Account", "address", "row.account")
    + "SET a.system = true, a.system_block = row.block\n"
    + link("REGISTERED", "e", "a")
    + _BY,
)

HAT_GRANTED = Template(
    "HatGranted",
    "SET e.account = row.account, e.hat = row.hat\n"
    + entity("a", "Account", "address", "row.account")
    + _HAT
    + link("GRANTED_TO", "e", "a")
    + link("OF_HAT", "e", "h")
    + _BY
    + open_interval("a", "WEARS", "h"),
    phase=OPEN,
)

HAT_REVOKED = Template(
    "HatRevoked",
    "SET e.account = row.account, e.hat = row.hat\n"
    + entity("a", "Account", "address", "row.account")
    + _HAT
    + link("REVOKED_FROM", "e", "a")
    + link("OF_HAT", "e", "h")
    + _BY
    + "WITH e, row, a, h\nCALL (e, row, a, h) {\n"
    + close_latest("(a)-[r:WEARS]->(h)", "WEARS")
    + "}\n",
    phase=CLOSE,
)


def _hat_request(label: str, with_by: bool) -> Template:
    return Template(
        label,
        "SET e.account = row.account, e.hat = row.hat\n"
        + entity("a", "Account", "address", "row.account")
        + _HAT
        + link("FOR_ACCOUNT", "e", "a")
        + link("OF_HAT", "e", "h")
        + (_BY if with_by else ""),
    )


ARRANGER_SET = Template(
    "ArrangerSet",
    "SET e.receiver = row.receiver, e.arranger = row.arranger\n"
    + entity("rc", "Account", "address", "row.receiver")
    + link("FOR_RECEIVER", "e", "rc")
    + _BY
    + "WITH e, row, rc\nCALL (e, row, rc) {\n"
    + close_latest("(rc)<-[r:ARRANGES]-()", "ARRANGES")
    + f"WITH e, row WHERE row.arranger <> '{ZERO_ADDRESS}'\n"
    + "MATCH (rc:Account {address: row.receiver})\n"
    + entity("ar", "Account", "address", "row.arranger")
    + open_interval("ar", "ARRANGES", "rc")
    + "}\n",
)

CIRCLE_CREATED = Template(
    "CircleCreated",
    "SET e.circle = row.circle, e.parent = row.parent, e.aim_hash = row.aim, "
    "e.domain_hash = row.domain\n"
    + entity("c", "Circle", "id", "row.circle")
    + link("CREATED", "e", "c")
    + "WITH e, row, c\nCALL (e, row, c) {\n"
    + f"WITH e, row, c WHERE row.parent <> '{ZERO_ID}'\n"
    + entity("p", "Circle", "id", "row.parent")
    + open_interval("c", "PART_OF", "p")
    + "}\n",
)

CIRCLE_UPDATED = Template(
    "CircleUpdated",
    "SET e.circle = row.circle, e.aim_hash = row.aim, e.domain_hash = row.domain\n"
    + entity("c", "Circle", "id", "row.circle")
    + link("UPDATED", "e", "c"),
)

CIRCLE_ROLE_SET = Template(
    "CircleRoleSet",
    "SET e.circle = row.circle, e.account = row.account, e.role = row.role\n"
    + entity("c", "Circle", "id", "row.circle")
    + entity("a", "Account", "address", "row.account")
    + link("IN_CIRCLE_OF", "e", "c")
    + link("FOR_ACCOUNT", "e", "a")
    + "WITH e, row, a, c\nCALL (e, row, a, c) {\n"
    + close_latest("(a)-[r:IN_CIRCLE]->(c)", "IN_CIRCLE")
    + "WITH e, row WHERE row.role <> 0\n"
    + "MATCH (a:Account {address: row.account}), (c:Circle {id: row.circle})\n"
    + open_interval("a", "IN_CIRCLE", "c", "role: row.role, role_name: row.role_name")
    + "}\n",
)


def _account(ev: LedgerEvent) -> dict[str, object]:
    return {"account": ev.args["account"], "by": ev.args.get("by", ZERO_ADDRESS)}


def _hat(ev: LedgerEvent) -> dict[str, object]:
    hat = int(ev.args["hat"])
    name = HAT_NAMES[hat] if hat < len(HAT_NAMES) else f"hat_{hat}"
    return {**_account(ev), "hat": hat, "hat_name": name}


def _circle(ev: LedgerEvent) -> dict[str, object]:
    return {
        "circle": ev.args["circleId"],
        "parent": ev.args.get("parentId", ZERO_ID),
        "aim": ev.args.get("aimHash"),
        "domain": ev.args.get("domainHash"),
    }


def _role(ev: LedgerEvent) -> dict[str, object]:
    role = int(ev.args["role"])
    name = CIRCLE_ROLES[role] if role < len(CIRCLE_ROLES) else f"role_{role}"
    return {
        "circle": ev.args["circleId"],
        "account": ev.args["account"],
        "role": role,
        "role_name": name,
    }


def register(rules: Rules) -> None:
    rules.interval_types.update({"WEARS", "ARRANGES", "PART_OF", "IN_CIRCLE"})
    rules.once_properties.update({("Account", "member_id"), ("Account", "system")})
    rules.on(
        CONTRACT,
        "MemberRegistered",
        MEMBER_REGISTERED,
        lambda ev: {**_account(ev), "member_id": ev.args["memberId"]},
    )
    rules.on(CONTRACT, "SystemAccountRegistered", SYSTEM_ACCOUNT, _account)
    rules.on(CONTRACT, "HatGranted", HAT_GRANTED, _hat)
    rules.on(CONTRACT, "HatRevoked", HAT_REVOKED, _hat)
    rules.on(CONTRACT, "HatRequested", _hat_request("HatRequested", False), _hat)
    rules.on(CONTRACT, "HatRequestApproved", _hat_request("HatRequestApproved", True), _hat)
    rules.on(CONTRACT, "HatRequestDeclined", _hat_request("HatRequestDeclined", True), _hat)
    rules.on(
        CONTRACT,
        "ArrangerSet",
        ARRANGER_SET,
        lambda ev: {
            "receiver": ev.args["receiver"],
            "arranger": ev.args["arranger"],
            "by": ev.args["by"],
        },
    )
    rules.on(CONTRACT, "CircleCreated", CIRCLE_CREATED, _circle)
    rules.on(CONTRACT, "CircleUpdated", CIRCLE_UPDATED, _circle)
    rules.on(CONTRACT, "CircleRoleSet", CIRCLE_ROLE_SET, _role)
