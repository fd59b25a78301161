"""Browser tests of the member pages: Debian's Chromium driven by Playwright, on the real
stack (geth, Neo4j, Keycloak, one live gateway per module, shared with tests/gateway).

axe-core (pinned in engines/package.json) is injected into every page a test visits with
JavaScript on; `Visit.check` fails on any violation of the WCAG 2.x A/AA rules.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eccoo.engines import engine_paths
from eccoo.web_assets import CHROMIUM

# The live gateway and its chain are the gateway tests' own fixtures, loaded from there.
_spec = importlib.util.spec_from_file_location(
    "gateway_fixtures", Path(__file__).parents[1] / "gateway" / "conftest.py"
)
assert _spec is not None and _spec.loader is not None
_gateway_fixtures = sys.modules[_spec.name] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_gateway_fixtures)
deployed_network = _gateway_fixtures.deployed_network
live_gateway = _gateway_fixtures.live_gateway

SCREENSHOTS = Path(__file__).parents[2] / "docs" / "web"
PAGE_WEIGHT_LIMIT = 150_000  # bytes of HTML, CSS, JavaScript and fonts, uncompressed
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]


@pytest.fixture(scope="session")
def axe_source() -> str:
    path = engine_paths().npm_dir / "node_modules" / "axe-core" / "axe.min.js"
    if not path.exists():
        pytest.fail("axe-core is missing: run `eccoo setup`")
    return path.read_text()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: run `eccoo setup`")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield launched
        launched.close()


def axe_violations(page: Any, axe_source: str) -> list[dict[str, Any]]:
    """What axe-core finds wrong on the page as it is now (WCAG 2.x A and AA rules)."""
    page.add_script_tag(content=axe_source)
    found = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})"
        ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact,"
        " nodes: v.nodes.map(n => n.target.join(' '))})))",
        AXE_TAGS,
    )
    return list(found)


def page_weight(page: Any) -> int:
    """Bytes of the page and everything it loaded (uncompressed, cached or not)."""
    return int(
        page.evaluate(
            "performance.getEntriesByType('navigation').concat("
            "performance.getEntriesByType('resource'))"
            ".reduce((sum, e) => sum + e.decodedBodySize, 0)"
        )
    )


def check_page(page: Any, axe_source: str, name: str | None = None) -> None:
    """axe finds nothing; one h1, a title, `lang`, a skip link and a main landmark; no
    horizontal scroll at 320 px; under 150 KB; screenshots (desktop and 320 px) when
    `name` is given."""
    assert 0 < page_weight(page) < PAGE_WEIGHT_LIMIT, page_weight(page)
    violations = axe_violations(page, axe_source)
    assert violations == [], json.dumps(violations, indent=1)
    assert page.locator("h1").count() == 1
    assert page.title()
    assert page.locator("html").get_attribute("lang") == "en-GB"
    assert page.locator("a.govuk-skip-link[href='#main-content']").count() == 1
    assert page.locator("main#main-content").count() == 1
    size = page.viewport_size
    page.set_viewport_size({"width": 320, "height": 800})
    try:
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
        if name:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"{name}-320.png"), full_page=True)
    finally:
        page.set_viewport_size(size)
    if name:
        page.screenshot(path=str(SCREENSHOTS / f"{name}-desktop.png"), full_page=True)
