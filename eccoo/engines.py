"""The pinned engines eccoo runs, installed into a cache shared by every checkout.

Every step is idempotent and keyed by version: a second setup finds the marker and
costs a stat call. Downloads come only from the package registries (Go module proxy,
npm, Maven Central, Debian's packages); nothing here fetches at test time.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from eccoo.errors import ToolchainError
from eccoo.settings import REPO_ROOT, EccooSettings

GETH_VERSION = "1.13.15"
SOLC_VERSION = "0.8.28"
OPENZEPPELIN_VERSION = "5.4.0"
NEO4J_VERSION = "5.26.30"
KEYCLOAK_VERSION = "26.5.6"

ENGINES_SRC = REPO_ROOT / "engines"


@dataclass(frozen=True)
class EnginePaths:
    """Where each engine lives once installed."""

    root: Path

    @property
    def geth(self) -> Path:
        return self.root / f"geth-v{GETH_VERSION}" / "bin" / "geth"

    @property
    def npm_dir(self) -> Path:
        return self.root / f"npm-{_npm_key()}"

    @property
    def solc(self) -> Path:
        return self.root / f"solc-{SOLC_VERSION}" / "solc"

    @property
    def openzeppelin(self) -> Path:
        return self.npm_dir / "node_modules" / "@openzeppelin" / "contracts"

    @property
    def web_assets(self) -> Path:
        """The member pages' CSS, JS and images, built from GOV.UK Frontend (see web_assets)."""
        return self.root / f"web-{_web_assets_key()}"

    @property
    def neo4j_lib(self) -> Path:
        return self.root / f"neo4j-{NEO4J_VERSION}" / "lib"

    @property
    def keycloak_home(self) -> Path:
        return self.root / f"keycloak-{KEYCLOAK_VERSION}"


def engine_paths(settings: EccooSettings | None = None) -> EnginePaths:
    settings = settings or EccooSettings()
    return EnginePaths(settings.engines_dir)


def _npm_key() -> str:
    lock = ENGINES_SRC / "package-lock.json"
    return hashlib.sha256(lock.read_bytes()).hexdigest()[:12]


def _web_assets_key() -> str:
    from eccoo.web_assets import BRAND_SCSS

    digest = hashlib.sha256((ENGINES_SRC / "package-lock.json").read_bytes())
    digest.update(BRAND_SCSS.read_bytes())
    return digest.hexdigest()[:12]


def _run(
    argv: list[str], what: str, *, cwd: Path | None = None, env: dict[str, str] | None = None
) -> str:
    if shutil.which(argv[0]) is None and not Path(argv[0]).exists():
        raise ToolchainError(f"{what}: `{argv[0]}` is not installed on this machine")
    full_env = dict(os.environ)
    full_env.update(env or {})
    proc = subprocess.run(argv, cwd=cwd, env=full_env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-20:])
        raise ToolchainError(f"{what} failed (exit {proc.returncode}):\n{tail}")
    return proc.stdout


def ensure_geth(paths: EnginePaths) -> Path:
    """Build geth from the Go module proxy (the flag works around Go >= 1.23's link check)."""
    if paths.geth.exists() and GETH_VERSION in _run([str(paths.geth), "version"], "geth version"):
        return paths.geth
    paths.geth.parent.mkdir(parents=True, exist_ok=True)
    _run(
        [
            "go",
            "install",
            "-ldflags=-checklinkname=0",
            f"github.com/ethereum/go-ethereum/cmd/geth@v{GETH_VERSION}",
        ],
        f"building geth v{GETH_VERSION}",
        cwd=paths.root,
        env={"GOBIN": str(paths.geth.parent), "GOFLAGS": "-mod=mod"},
    )
    out = _run([str(paths.geth), "version"], "geth version")
    if GETH_VERSION not in out:
        raise ToolchainError(f"built geth reports another version:\n{out}")
    return paths.geth


def ensure_npm(paths: EnginePaths) -> Path:
    """solc-js and OpenZeppelin, from the committed lock file, into a cache folder."""
    marker = paths.npm_dir / ".installed"
    if not marker.exists():
        paths.npm_dir.mkdir(parents=True, exist_ok=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy2(ENGINES_SRC / name, paths.npm_dir / name)
        _run(
            ["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
            "npm ci",
            cwd=paths.npm_dir,
        )
        marker.write_text("ok\n")
    # The repo sees the same modules (ape-config.yaml remaps OpenZeppelin through it).
    link = ENGINES_SRC / "node_modules"
    target = paths.npm_dir / "node_modules"
    if link.is_symlink() and link.resolve() != target.resolve():
        link.unlink()
    if not link.exists():
        link.symlink_to(target)
    return paths.npm_dir


def ensure_solc(paths: EnginePaths) -> Path:
    """A `solc` that answers like the native compiler, registered for py-solc-x and Ape.

    A native solc of the pinned version on PATH is preferred; otherwise a wrapper runs
    engines/solc/solc.js on the solc-js API.
    """
    paths.solc.parent.mkdir(parents=True, exist_ok=True)
    native = shutil.which("solc")
    if native and f"Version: {SOLC_VERSION}" in _run([native, "--version"], "solc --version"):
        script = f'#!/bin/sh\nexec "{native}" "$@"\n'
    else:
        wrapper = paths.solc.parent / "solc.js"
        shutil.copy2(ENGINES_SRC / "solc" / "solc.js", wrapper)
        script = (
            f'#!/bin/sh\nNODE_PATH="{paths.npm_dir / "node_modules"}" exec node "{wrapper}" "$@"\n'
        )
    _write_if_changed(paths.solc, script, mode=0o755)
    # py-solc-x (and through it Ape) looks for `solc-v<version>` in ~/.solcx.
    solcx_dir = Path(os.environ.get("SOLCX_BINARY_PATH", Path.home() / ".solcx"))
    solcx_dir.mkdir(parents=True, exist_ok=True)
    _write_if_changed(
        solcx_dir / f"solc-v{SOLC_VERSION}", f'#!/bin/sh\nexec "{paths.solc}" "$@"\n', mode=0o755
    )
    out = _run([str(paths.solc), "--version"], "solc --version")
    if SOLC_VERSION not in out:
        raise ToolchainError(f"solc wrapper reports another version:\n{out}")
    return paths.solc


def _write_if_changed(path: Path, text: str, *, mode: int) -> None:
    if not path.exists() or path.read_text() != text:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.chmod(mode)
        tmp.replace(path)


def ensure_neo4j(paths: EnginePaths) -> Path:
    """The Neo4j Community jars from Maven Central (resolved by engines/neo4j/pom.xml)."""
    marker = paths.neo4j_lib.parent / ".installed"
    if marker.exists():
        return paths.neo4j_lib
    tmp = paths.neo4j_lib.parent / "lib.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    _run(
        [
            "mvn",
            "-q",
            "-B",
            "-f",
            str(ENGINES_SRC / "neo4j" / "pom.xml"),
            f"-Dneo4j.version={NEO4J_VERSION}",
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={tmp}",
        ],
        f"fetching Neo4j {NEO4J_VERSION} from Maven Central",
    )
    shutil.rmtree(paths.neo4j_lib, ignore_errors=True)
    tmp.replace(paths.neo4j_lib)
    marker.write_text("ok\n")
    return paths.neo4j_lib


def ensure_keycloak(paths: EnginePaths) -> Path:
    """The Keycloak server distribution zip from Maven Central, unpacked into the cache."""
    marker = paths.keycloak_home / ".installed"
    if marker.exists():
        return paths.keycloak_home
    download = paths.root / "downloads"
    _run(
        [
            "mvn",
            "-q",
            "-B",
            "dependency:copy",
            f"-Dartifact=org.keycloak:keycloak-quarkus-dist:{KEYCLOAK_VERSION}:zip",
            f"-DoutputDirectory={download}",
        ],
        f"fetching Keycloak {KEYCLOAK_VERSION} from Maven Central",
        cwd=paths.root,
    )
    archive = download / f"keycloak-quarkus-dist-{KEYCLOAK_VERSION}.zip"
    staging = paths.root / f"keycloak-{KEYCLOAK_VERSION}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(staging)
    inner = staging / f"keycloak-{KEYCLOAK_VERSION}"
    for script in (inner / "bin").glob("*.sh"):
        script.chmod(0o755)
    shutil.rmtree(paths.keycloak_home, ignore_errors=True)
    inner.replace(paths.keycloak_home)
    shutil.rmtree(staging, ignore_errors=True)
    archive.unlink(missing_ok=True)
    marker.write_text("ok\n")
    return paths.keycloak_home


def _ensure_web_assets(paths: EnginePaths) -> Path:
    from eccoo.web_assets import ensure_web_assets

    return ensure_web_assets(paths.npm_dir / "node_modules", paths.web_assets, _run)


def _ensure_chromium(paths: EnginePaths) -> Path:
    from eccoo.web_assets import ensure_chromium

    return ensure_chromium(_run)


STEPS: list[tuple[str, Callable[[EnginePaths], Path]]] = [
    (f"geth v{GETH_VERSION}", ensure_geth),
    (
        f"npm: solc-js {SOLC_VERSION}, OpenZeppelin {OPENZEPPELIN_VERSION}, GOV.UK Frontend",
        ensure_npm,
    ),
    (f"solc {SOLC_VERSION} wrapper", ensure_solc),
    ("the member pages' CSS (GOV.UK Frontend, the cooperative's colours)", _ensure_web_assets),
    ("Chromium from Debian (the browser tests)", _ensure_chromium),
    (f"Neo4j {NEO4J_VERSION}", ensure_neo4j),
    (f"Keycloak {KEYCLOAK_VERSION}", ensure_keycloak),
]


def java_binary(settings: EccooSettings) -> str:
    """The java that runs Neo4j and Keycloak (both support 17)."""
    if settings.java_home:
        return str(settings.java_home / "bin" / "java")
    found = shutil.which("java")
    if not found:
        raise ToolchainError("java is not installed (Neo4j and Keycloak need Java 17 or 21)")
    return found
