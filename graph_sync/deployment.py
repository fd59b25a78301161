"""What the indexer follows: the contracts of one `deployment.json`, read by the ledger
client's reader (any subset of the contracts may be followed), and the key that ties the
graph's cursor to that deployment. Nothing is indexed from a guess: a missing or malformed
file is a clear error naming the file and the field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eccoo.client.deployment import Deployment, read_deployment
from eccoo.client.errors import DeploymentError
from eccoo.graph_sync.errors import DeploymentMissing, InvalidDeployment

from eccoo.errors import NotFound


def load_deployment(path: Path) -> Deployment:
    try:
        return read_deployment(path, required=())
    except NotFound:
        raise DeploymentMissing(
            f"no deployment file at {path}; deploy the contracts first (`eccoo contracts deploy`)",
            field="deployment_file",
        ) from None
    except DeploymentError as exc:
        raise InvalidDeployment(str(exc), field=exc.field) from None


def cursor_key(deployment: Deployment) -> str:
    """Identifies the deployment in the graph's cursor: its chain and contract addresses."""
    addresses = sorted(a.lower() for a in deployment.addresses)
    return f"{deployment.chain_id}:" + ",".join(addresses)


def followed_contracts(deployment: Deployment) -> dict[str, tuple[str, list[dict[str, Any]]]]:
    """name -> (lower-case address, ABI), as the decoder matches logs."""
    return {name: (c.address.lower(), c.abi) for name, c in deployment.contracts.items()}
