"""The member pages, all in one router, and their static files (CSS and JavaScript built
by `eccoo setup` from GOV.UK Frontend, served by the gateway itself: no CDN).
"""

from __future__ import annotations

from eccoo.gateway.settings import GatewaySettings
from eccoo.gateway.web import appointments, pages, transactions
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from eccoo.engines import engine_paths

STATIC_PATH = "/web/static"


def mount(app: FastAPI, settings: GatewaySettings) -> None:
    assets = settings.web_assets_dir or engine_paths().web_assets
    # Checked per request: pages still work, unstyled, before `eccoo setup` built them.
    app.mount(STATIC_PATH, StaticFiles(directory=assets, check_dir=False), name="web-static")
    for router in (pages.router, appointments.router, transactions.router):
        app.include_router(router)
