"""The member pages' static files, built once by `eccoo setup` into the engine cache: GOV.UK
Frontend's CSS compiled from its Sass in the cooperative's colours and a system font stack,
and its small JavaScript; and the Chromium that the browser tests drive.

Never the crown, the GDS Transport font or GOV.UK's images: this is not a government service.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from eccoo.settings import REPO_ROOT

BRAND_SCSS = REPO_ROOT / "gateway" / "web" / "assets" / "eccoo.scss"
CHROMIUM = Path("/usr/bin/chromium")

Run = Callable[..., str]


def ensure_web_assets(node_modules: Path, out: Path, run: Run) -> Path:
    """`out/eccoo.css` and `out/govuk-frontend.min.js`, keyed by the npm lock and the brand
    Sass (the folder's name), so a changed colour or version builds a new folder."""
    marker = out / ".installed"
    if marker.exists():
        return out
    staging = out.with_name(out.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    run(
        [
            "node",
            str(node_modules / "sass" / "sass.js"),
            f"--load-path={node_modules}",
            "--style=compressed",
            "--no-source-map",
            "--quiet-deps",
            "--silence-deprecation=import",
            "--silence-deprecation=global-builtin",
            str(BRAND_SCSS),
            str(staging / "eccoo.css"),
        ],
        "building the member pages' CSS from GOV.UK Frontend's Sass",
    )
    dist = node_modules / "govuk-frontend" / "dist" / "govuk"
    shutil.copy2(dist / "govuk-frontend.min.js", staging / "govuk-frontend.min.js")
    shutil.rmtree(out, ignore_errors=True)
    staging.replace(out)
    marker.write_text("ok\n")
    return out


def ensure_chromium(run: Run) -> Path:
    """Debian's Chromium for the browser tests (Playwright's own browser download is not
    used): installed with apt-get unless it is already there."""
    if CHROMIUM.exists():
        return CHROMIUM
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", "update", "-qq"], "apt-get update", env=env)
    run(["apt-get", "install", "-y", "-qq", "chromium"], "installing Chromium", env=env)
    return CHROMIUM
