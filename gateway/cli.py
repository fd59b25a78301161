"""`eccoo gateway ...`: run the gateway, provision the realm, check health; sign in from a
terminal (device authorization grant), see who you are, sign out.

Settings come from `ECCOO_GATEWAY_*` and these options, validated once here; secrets are
read from files, never taken on the command line and never printed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import typer
from eccoo.gateway.identity.realm import ensure_realm, load_realm_info
from eccoo.gateway.settings import GatewaySettings

from eccoo.errors import ConfigError, EccooError

app = typer.Typer(no_args_is_help=True, help="The identity-aware transaction gateway.")


@app.command()
def run(
    data_dir: Path = typer.Option(None, "--data-dir", help="gateway state (database, master key)"),
    network_dir: Path = typer.Option(None, "--network-dir", help="network folder to relay to"),
    keycloak_data_dir: Path = typer.Option(
        None, "--keycloak-data-dir", help="where `realm` recorded the issuer (identity/realm.json)"
    ),
    issuer: str = typer.Option(None, "--issuer", help="OIDC issuer URL (any standard provider)"),
    bolt_url: str = typer.Option(None, "--bolt-url", help="Neo4j for graph queries and notes"),
    neo4j_password_file: Path = typer.Option(None, "--neo4j-password-file"),
    host: str = typer.Option(None, "--host"),
    port: int = typer.Option(None, "--port"),
) -> None:
    """Serve the gateway (foreground; `eccoo up` runs it as a background process)."""
    import uvicorn
    from eccoo.gateway.api.app import create_app

    overrides: dict[str, Any] = {}
    if keycloak_data_dir is not None and issuer is None:
        recorded = load_realm_info(keycloak_data_dir)
        overrides["issuer"], overrides["audience"] = recorded["issuer"], recorded["audience"]
        secrets_dir = keycloak_data_dir / "identity" / "clients"
        for setting, client in (
            ("web_client_secret_file", "eccoo-web"),
            ("directory_client_secret_file", "eccoo-gateway-directory"),
        ):
            if (secrets_dir / f"{client}.secret").exists():
                overrides[setting] = secrets_dir / f"{client}.secret"
    for key, value in (
        ("data_dir", data_dir),
        ("network_dir", network_dir),
        ("issuer", issuer),
        ("neo4j_url", bolt_url),
        ("neo4j_password_file", neo4j_password_file),
        ("host", host),
        ("port", port),
    ):
        if value is not None:
            overrides[key] = value
    try:
        settings = GatewaySettings(**overrides)
    except ValueError as exc:
        raise ConfigError(f"gateway settings: {exc}") from None
    if not settings.issuer:
        raise ConfigError(
            "no issuer: pass --issuer or --keycloak-data-dir, or set ECCOO_GATEWAY_ISSUER",
            field="issuer",
        )
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info")


@app.command()
def realm(
    keycloak_url: str = typer.Option(..., "--keycloak-url"),
    admin_password_file: Path = typer.Option(..., "--admin-password-file"),
    admin_user: str = typer.Option("admin", "--admin-user"),
    data_dir: Path = typer.Option(..., "--data-dir", help="secrets go to DATA_DIR/identity"),
    local: bool = typer.Option(True, "--local/--no-local", help="test client and demo users"),
) -> None:
    """Provision the `eccoo` realm idempotently; secrets are written 0600, never shown."""

    class Endpoint:
        base_url = keycloak_url
        admin_user = ""
        admin_password_file = Path()

    endpoint = Endpoint()
    endpoint.admin_user = admin_user
    endpoint.admin_password_file = admin_password_file
    info = ensure_realm(endpoint, data_dir, local=local)
    typer.echo(
        json.dumps(
            {
                "issuer": info.issuer,
                "audience": info.audience,
                "clients": sorted(info.clients),
                "secrets_dir": str(info.secrets_dir),
            }
        )
    )


@app.command()
def status(url: str = typer.Option("http://127.0.0.1:8700", "--url")) -> None:
    """Is a gateway answering at URL? Prints `{"url", "healthy"}`."""
    try:
        healthy = httpx.get(f"{url}/healthz", timeout=3).status_code == 200
    except httpx.HTTPError:
        healthy = False
    typer.echo(json.dumps({"url": url, "healthy": healthy}))
    raise typer.Exit(0 if healthy else 1)


def _login_settings(issuer: str | None, gateway_url: str | None) -> Any:
    from eccoo.client.settings import LoginSettings

    overrides: dict[str, Any] = {}
    if issuer:
        overrides["issuer"] = issuer
    if gateway_url:
        overrides["gateway_url"] = gateway_url
    settings = LoginSettings(**overrides)
    if not settings.issuer:
        from eccoo.settings import EccooSettings

        try:
            recorded = load_realm_info(EccooSettings().data_dir / "keycloak")
        except EccooError:
            raise ConfigError(
                "no issuer: pass --issuer, set ECCOO_LOGIN_ISSUER, or start the local stack "
                "(`eccoo up`)",
                field="issuer",
            ) from None
        settings = settings.model_copy(update={"issuer": recorded["issuer"]})
    return settings


@app.command()
def login(
    issuer: str = typer.Option(None, "--issuer", help="OIDC issuer URL (default: local stack)"),
    force: bool = typer.Option(False, "--force", help="replace the session you have"),
) -> None:
    """Sign in with the device authorization grant: approve a code in any browser."""
    from eccoo.gateway.identity.device_login import Provider, SessionFile
    from rich.console import Console

    settings = _login_settings(issuer, None)
    store = SessionFile(settings.session_file)
    store.refuse_overwrite(force)
    provider = Provider(settings.issuer, settings.client_id)
    code = provider.start()
    console = Console(stderr=True)
    console.print(
        f"To sign in, open [bold]{code.verification_uri}[/bold] "
        f"and enter the code [bold]{code.user_code}[/bold]",
        soft_wrap=True,
    )
    if code.verification_uri_complete:
        console.print(f"(or open {code.verification_uri_complete})", soft_wrap=True)
    with console.status(f"waiting for approval (the code expires in {code.expires_in // 60} min)"):
        session = provider.wait(code)
    store.save(session, force=force)
    typer.echo(json.dumps({"signed_in": True, "issuer": session.issuer}))


@app.command()
def whoami(
    gateway_url: str = typer.Option(None, "--gateway-url", help="default: the local stack's"),
) -> None:
    """Who the gateway sees: your member record and hats (never your tokens)."""
    from eccoo.gateway.identity.device_login import Provider, SessionFile, current, member_record

    settings = _login_settings(None, gateway_url)
    session = current(SessionFile(settings.session_file), lambda s: Provider(s.issuer, s.client_id))
    typer.echo(json.dumps(member_record(settings.gateway_url, session.access_token)))


@app.command()
def logout() -> None:
    """End the session at the provider and delete it here."""
    from eccoo.gateway.errors import LoginError
    from eccoo.gateway.identity.device_login import Provider, SessionFile

    settings = _login_settings(None, None)
    store = SessionFile(settings.session_file)
    session = store.load()
    revoked = False
    if session is not None:
        try:
            revoked = Provider(session.issuer, session.client_id).revoke(session)
        except LoginError:
            revoked = False  # the provider is away: the local copy goes all the same
    typer.echo(json.dumps({"signed_out": store.delete(), "revoked_at_provider": revoked}))
