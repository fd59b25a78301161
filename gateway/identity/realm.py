"""Provision the `eccoo` realm in Keycloak from `keycloak/realm-eccoo.json`, idempotently.

Client secrets and demo-user passwords are generated at run time (by Keycloak or here)
and written 0600 under `<data_dir>/identity/`; they are never printed, logged or committed.
Calling `ensure_realm` again changes nothing that is already right.
"""

from __future__ import annotations

import copy
import json
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx
from eccoo.gateway.errors import GatewayError

from eccoo.errors import ServiceUnavailable
from eccoo.secret_files import write_secret

REALM_FILE = Path(__file__).parent / "keycloak" / "realm-eccoo.json"
REALM = "eccoo"


class AdminEndpoint(Protocol):
    """What the lead's `KeycloakEndpoint` offers: where Keycloak is, and its admin login."""

    base_url: str
    admin_user: str
    admin_password_file: Path


@dataclass(frozen=True)
class RealmInfo:
    """Where the realm's tokens come from and where its generated secrets are kept."""

    base_url: str
    realm: str
    issuer: str
    audience: str
    secrets_dir: Path
    clients: dict[str, Path] = field(default_factory=dict)  # clientId -> secret file
    demo_users: dict[str, Path] = field(default_factory=dict)  # username -> password file

    @property
    def token_endpoint(self) -> str:
        return f"{self.issuer}/protocol/openid-connect/token"

    def client_secret(self, client_id: str) -> str:
        return self.clients[client_id].read_text().strip()


def load_template() -> dict[str, Any]:
    return json.loads(REALM_FILE.read_text())


class KeycloakAdmin:
    """A thin client for the Keycloak admin REST API, logged in as the bootstrap admin."""

    def __init__(self, endpoint: AdminEndpoint, realm: str = REALM) -> None:
        self.base_url = endpoint.base_url.rstrip("/")
        self.realm = realm
        password = Path(endpoint.admin_password_file).read_text().strip()
        self._http = httpx.Client(base_url=self.base_url, timeout=30.0)
        try:
            reply = self._http.post(
                "/realms/master/protocol/openid-connect/token",
                data={
                    "grant_type": "password",
                    "client_id": "admin-cli",
                    "username": endpoint.admin_user,
                    "password": password,
                },
            )
        except httpx.TransportError as exc:
            raise ServiceUnavailable(f"Keycloak at {self.base_url} does not answer") from exc
        if reply.status_code != 200:
            raise GatewayError(f"Keycloak admin login failed (HTTP {reply.status_code})")
        self._http.headers["Authorization"] = f"Bearer {reply.json()['access_token']}"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> KeycloakAdmin:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(
        self, method: str, path: str, *, ok: tuple[int, ...] = (200, 201, 204), **kwargs: Any
    ) -> httpx.Response:
        url = path if path.startswith("/admin/") else f"/admin/realms/{self.realm}{path}"
        reply = self._http.request(method, url, **kwargs)
        if reply.status_code not in ok:
            raise GatewayError(
                f"Keycloak admin {method} {url} answered HTTP {reply.status_code}: "
                f"{reply.text[:200]}"
            )
        return reply

    # --- realm, roles, clients, users ---------------------------------------------------
    def realm_exists(self) -> bool:
        return self.call("GET", "", ok=(200, 404)).status_code == 200

    def client_uuid(self, client_id: str) -> str | None:
        found = self.call("GET", "/clients", params={"clientId": client_id}).json()
        return found[0]["id"] if found else None

    def user_uuid(self, username: str) -> str | None:
        found = self.call("GET", "/users", params={"username": username, "exact": "true"}).json()
        return found[0]["id"] if found else None

    def ensure_role(self, role: dict[str, Any]) -> None:
        if self.call("GET", f"/roles/{role['name']}", ok=(200, 404)).status_code == 404:
            self.call("POST", "/roles", json=role)

    def grant_realm_roles(self, user_uuid: str, names: list[str]) -> None:
        if not names:
            return
        have = {
            r["name"] for r in self.call("GET", f"/users/{user_uuid}/role-mappings/realm").json()
        }
        wanted = [self.call("GET", f"/roles/{n}").json() for n in names if n not in have]
        if wanted:
            self.call("POST", f"/users/{user_uuid}/role-mappings/realm", json=wanted)

    def revoke_realm_roles(self, user_uuid: str, names: list[str]) -> None:
        roles = [self.call("GET", f"/roles/{n}").json() for n in names]
        if roles:
            self.call("DELETE", f"/users/{user_uuid}/role-mappings/realm", json=roles)

    def grant_client_roles(self, user_uuid: str, client_id: str, names: list[str]) -> None:
        """Give a user roles of another client (e.g. `realm-management`'s view-users)."""
        client = self.client_uuid(client_id)
        if client is None:
            raise GatewayError(f"Keycloak has no client {client_id!r} in realm {self.realm}")
        path = f"/users/{user_uuid}/role-mappings/clients/{client}"
        have = {r["name"] for r in self.call("GET", path).json()}
        wanted = [
            self.call("GET", f"/clients/{client}/roles/{n}").json() for n in names if n not in have
        ]
        if wanted:
            self.call("POST", path, json=wanted)

    def ensure_client(self, rep: dict[str, Any]) -> str:
        uuid = self.client_uuid(rep["clientId"])
        if uuid is None:
            self.call("POST", "/clients", json=rep)
            uuid = self.client_uuid(rep["clientId"])
            assert uuid is not None
        return uuid

    def client_secret(self, uuid: str) -> str:
        return str(self.call("GET", f"/clients/{uuid}/client-secret").json()["value"])

    def ensure_user(
        self,
        username: str,
        password: str | None,
        *,
        first: str = "",
        last: str = "",
        hats: list[str] | None = None,
    ) -> str:
        """Create the user if missing; set the password when one is given; grant hats."""
        uuid = self.user_uuid(username)
        if uuid is None:
            self.call(
                "POST",
                "/users",
                json={
                    "username": username,
                    "enabled": True,
                    "emailVerified": True,
                    "email": f"{username}@eccoo.invalid",
                    "firstName": first or username,
                    "lastName": last or "Member",
                    "requiredActions": [],
                },
            )
            uuid = self.user_uuid(username)
            assert uuid is not None
        if password is not None:
            self.call(
                "PUT",
                f"/users/{uuid}/reset-password",
                json={"type": "password", "value": password, "temporary": False},
            )
        self.grant_realm_roles(uuid, hats or [])
        return uuid

    def add_rsa_key_provider(self, name: str, priority: int) -> str:
        """Add a generated RSA signing key (key rotation); returns the component id."""
        realm_id = self.call("GET", "").json()["id"]
        self.call(
            "POST",
            "/components",
            json={
                "name": name,
                "providerId": "rsa-generated",
                "providerType": "org.keycloak.keys.KeyProvider",
                "parentId": realm_id,
                "config": {
                    "priority": [str(priority)],
                    "algorithm": ["RS256"],
                    "keySize": ["2048"],
                    "active": ["true"],
                    "enabled": ["true"],
                },
            },
        )
        found = self.call("GET", "/components", params={"name": name}).json()
        return str(found[0]["id"])


def _expand_mappers(rep: dict[str, Any], mappers: dict[str, Any]) -> dict[str, Any]:
    rep = copy.deepcopy(rep)
    rep["protocolMappers"] = [
        copy.deepcopy(mappers[m[1:]]) if isinstance(m, str) else m
        for m in rep.get("protocolMappers", [])
    ]
    return rep


# Template keys provisioned one by one after the realm exists (not realm settings).
_PROVISIONED_APART = frozenset(
    {"roles", "clients", "serviceAccountRoles", "serviceAccountClientRoles", "local", "mappers"}
)


def ensure_realm(endpoint: AdminEndpoint, data_dir: Path, *, local: bool = True) -> RealmInfo:
    """Make the realm match the template; `local` adds the test client and demo users."""
    template = load_template()
    secrets_dir = Path(data_dir) / "identity"
    info = RealmInfo(
        base_url=endpoint.base_url.rstrip("/"),
        realm=template["realm"],
        issuer=f"{endpoint.base_url.rstrip('/')}/realms/{template['realm']}",
        audience=template["mappers"]["gateway-audience"]["config"]["included.custom.audience"],
        secrets_dir=secrets_dir,
    )
    realm_settings = {k: v for k, v in template.items() if k not in _PROVISIONED_APART}
    clients = list(template["clients"])
    if local:
        clients.append(template["local"]["testClient"])
    with KeycloakAdmin(endpoint, template["realm"]) as admin:
        if not admin.realm_exists():
            admin.call("POST", "/admin/realms", json=realm_settings)
        for role in template["roles"]["realm"]:
            admin.ensure_role(role)
        for raw in clients:
            rep = _expand_mappers(raw, template["mappers"])
            uuid = admin.ensure_client(rep)
            if not rep.get("publicClient"):
                value = admin.client_secret(uuid)
                path = secrets_dir / "clients" / f"{rep['clientId']}.secret"
                if not path.exists() or path.read_text().strip() != value:
                    write_secret(path, value + "\n", replace=True, private_folder=True)
                info.clients[rep["clientId"]] = path
            hats = template["serviceAccountRoles"].get(rep["clientId"])
            client_roles = template["serviceAccountClientRoles"].get(rep["clientId"], {})
            if hats or client_roles:
                sa = admin.call("GET", f"/clients/{uuid}/service-account-user").json()
                admin.grant_realm_roles(sa["id"], hats or [])
                for other, names in client_roles.items():
                    admin.grant_client_roles(sa["id"], other, names)
        if local:
            for user in template["local"]["demoUsers"]:
                path = secrets_dir / "users" / f"{user['username']}.password"
                password = None
                if not path.exists():
                    password = secrets.token_urlsafe(18)
                admin.ensure_user(
                    user["username"],
                    password,
                    first=user["firstName"],
                    last=user["lastName"],
                    hats=user["hats"],
                )
                if password is not None:
                    write_secret(path, password + "\n", replace=True, private_folder=True)
                info.demo_users[user["username"]] = path
    save_realm_info(info)
    return info


def save_realm_info(info: RealmInfo) -> Path:
    """`identity/realm.json`: the issuer and audience a gateway trusts (no secrets in it)."""
    path = info.secrets_dir / "realm.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    public = {
        "issuer": info.issuer,
        "audience": info.audience,
        "realm": info.realm,
        "base_url": info.base_url,
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(public, indent=2) + "\n")
    tmp.replace(path)
    return path


def load_realm_info(identity_parent: Path) -> dict[str, str]:
    """Read what `ensure_realm` recorded under `<dir>/identity/realm.json`."""
    path = Path(identity_parent) / "identity" / "realm.json"
    try:
        return dict(json.loads(path.read_text()))
    except FileNotFoundError:
        raise GatewayError(f"{path} is missing: provision the realm first") from None


class MemberDirectory:
    """Members' hats as the identity provider has them now, read with the gateway's
    directory service account (client credentials; `view-users` only, so it can read
    users and their role mappings and change nothing). The secret is never logged."""

    def __init__(self, issuer: str, client_id: str, secret_file: Path) -> None:
        base_url, _, self.realm = issuer.rstrip("/").rpartition("/realms/")
        self._token_url = f"{issuer.rstrip('/')}/protocol/openid-connect/token"
        self._client_id, self._secret_file = client_id, secret_file
        self._http = httpx.Client(base_url=f"{base_url}/admin/realms/{self.realm}", timeout=30)
        self._token, self._token_expiry = "", 0.0

    def close(self) -> None:
        self._http.close()

    def hats_of(self, subject: str, known: frozenset[str]) -> frozenset[str]:
        """The `known` hats among the user's effective realm roles (composites and groups
        included, as a token would carry them); none for a deleted or disabled user."""
        user = self._get(f"/users/{subject}")
        if user is None or not user.get("enabled", False):
            return frozenset()
        roles = self._get(f"/users/{subject}/role-mappings/realm/composite") or []
        return frozenset(r["name"] for r in roles) & known

    def _get(self, path: str) -> Any:
        try:
            reply = self._http.get(path, headers={"Authorization": f"Bearer {self._access()}"})
        except httpx.TransportError as exc:
            raise ServiceUnavailable("the identity provider does not answer") from exc
        if reply.status_code == 404:
            return None
        if reply.status_code != 200:
            raise GatewayError(f"the identity provider answered HTTP {reply.status_code}")
        return reply.json()

    def _access(self) -> str:
        if time.monotonic() < self._token_expiry:
            return self._token
        try:
            reply = self._http.post(
                self._token_url,
                data={"grant_type": "client_credentials"},
                auth=(self._client_id, self._secret_file.read_text().strip()),
            )
        except httpx.TransportError as exc:
            raise ServiceUnavailable("the identity provider does not answer") from exc
        if reply.status_code != 200:
            raise GatewayError(f"the directory client's sign-in failed (HTTP {reply.status_code})")
        body = reply.json()
        # Renewed a little before it expires, so a sync never starts with a dying token.
        self._token = str(body["access_token"])
        self._token_expiry = time.monotonic() + max(0.0, float(body["expires_in"]) - 30)
        return self._token
