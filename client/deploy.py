"""Deploys the five ledger contracts, wires their roles, and verifies a deployment.

`deploy(network_dir)` is idempotent: with a deployment.json present it only verifies (code
at every address, roles wired) and deploys nothing. It never overwrites a deployment.json
unless asked with `force`, and writes it only after every step succeeded.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from eccoo.client.artifacts import Artifact, load_artifacts
from eccoo.client.compile import CONTRACT_OF_KEY, DEPLOYED_CONTRACTS
from eccoo.client.deployment import (
    DeployedContract,
    Deployment,
    deployment_path,
    load_deployment,
    save_deployment,
)
from eccoo.client.errors import ChainUnavailable, DeploymentError
from eccoo.client.revert import error_table
from eccoo.client.settings import ContractsSettings
from eccoo.client.transact import Sender
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3 import HTTPProvider, Web3
from web3.middleware import ExtraDataToPOAMiddleware

HAT_TREASURER = 5
HAT_ADMIN = 6
TREASURER_ROLE = keccak(text="TREASURER_ROLE")
ZERO_ADDRESS = "0x" + "00" * 20

Progress = Callable[[str], None]


def member_id_for(address: str) -> bytes:
    """The pseudonymous member id eccoo gives an operator account (the deployer)."""
    return keccak(text=f"eccoo:member:{address.lower()}")


def deploy_contracts(
    w3: Web3,
    deployer: LocalAccount,
    *,
    settings: ContractsSettings | None = None,
    artifacts: dict[str, Artifact] | None = None,
    progress: Progress | None = None,
) -> Deployment:
    """Deploys and wires everything; `deployer` is admin, treasurer and contribution account."""
    settings = settings or ContractsSettings()
    artifacts = artifacts or load_artifacts(settings)
    say = progress or (lambda _msg: None)
    sender = Sender(
        w3,
        deployer,
        error_table=error_table(a.abi for a in artifacts.values()),
        timeout=settings.receipt_timeout,
    )
    deployed: dict[str, DeployedContract] = {}

    def create(key: str, *args: object) -> str:
        artifact = artifacts[CONTRACT_OF_KEY.get(key, key)]
        factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        say(f"deploying {key}")
        receipt = sender.transact(factory.constructor(*args))
        address = str(receipt["contractAddress"])
        deployed[key] = DeployedContract(
            address,
            artifact.abi,
            receipt["blockNumber"],
            "0x" + bytes(receipt["transactionHash"]).hex(),
        )
        return address

    me = deployer.address
    forwarder = create("Forwarder")
    membership = create("Membership", forwarder, me, member_id_for(me))
    coin = create("CareCoin", forwarder, me, membership)
    pots = create("FundingPots", forwarder, membership, coin)
    ledger = create(
        "CareLedger",
        forwarder,
        membership,
        coin,
        pots,
        settings.payer_contribution_bps,
        settings.giver_contribution_bps,
    )
    deployment = Deployment(w3.eth.chain_id, deployed)

    say("wiring roles")
    m = deployment.contract(w3, "Membership")
    for system_account in (pots, ledger):
        sender.transact(m.functions.registerSystemAccount(system_account))
    sender.transact(deployment.contract(w3, "FundingPots").functions.setLedger(ledger))
    sender.transact(deployment.contract(w3, "CareCoin").functions.grantRole(TREASURER_ROLE, me))
    care_ledger = deployment.contract(w3, "CareLedger")
    sender.transact(care_ledger.functions.setContributionAccount(me))
    return deployment


def verify_deployment(w3: Web3, deployment: Deployment, *, operator: str) -> None:
    """Raises DeploymentError naming every check that fails; returns quietly if all pass."""
    problems: list[str] = []
    if w3.eth.chain_id != deployment.chain_id:
        raise DeploymentError(
            f"deployment is for chain {deployment.chain_id}, the node runs chain {w3.eth.chain_id}"
        )
    for key in DEPLOYED_CONTRACTS:
        if not w3.eth.get_code(Web3.to_checksum_address(deployment.address(key))):
            problems.append(f"no code at {key} {deployment.address(key)}")
    if problems:
        raise DeploymentError("; ".join(problems))
    forwarder = deployment.address("Forwarder")
    m, coin, pots, ledger = (deployment.contract(w3, k) for k in DEPLOYED_CONTRACTS[1:])
    checks = {
        "forwarder trusted by every contract": all(
            deployment.contract(w3, k).functions.isTrustedForwarder(forwarder).call()
            for k in DEPLOYED_CONTRACTS[1:]
        ),
        "Membership wired into CareCoin": coin.functions.membership().call() == m.address,
        "Membership wired into CareLedger": ledger.functions.membership().call() == m.address,
        "FundingPots wired into CareLedger": ledger.functions.pots().call() == pots.address,
        "CareLedger may draw from FundingPots": pots.functions.ledger().call() == ledger.address,
        "FundingPots is a system account": m.functions.isSystemAccount(pots.address).call(),
        "CareLedger is a system account": m.functions.isSystemAccount(ledger.address).call(),
        "operator is admin": m.functions.hasHat(operator, HAT_ADMIN).call(),
        "operator wears the treasurer hat": m.functions.hasHat(operator, HAT_TREASURER).call(),
        "operator holds TREASURER_ROLE": coin.functions.hasRole(TREASURER_ROLE, operator).call(),
        "contribution account set": ledger.functions.contributionAccount().call() != ZERO_ADDRESS,
    }
    problems = [name for name, ok in checks.items() if not ok]
    if problems:
        raise DeploymentError("deployment not wired: " + "; ".join(problems))


def poa_web3(url: str) -> Web3:
    """A Web3 for a Clique chain, whose extraData needs the POA middleware."""
    w3 = Web3(HTTPProvider(url, request_kwargs={"timeout": 30}))
    w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
    return w3


def deploy(
    network_dir: Path,
    *,
    settings: ContractsSettings | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> Deployment:
    """Deploys to the network in `network_dir` once; afterwards verifies and returns the record."""
    from eccoo.node.keys import load_account
    from eccoo.node.manifest import load_manifest

    manifest = load_manifest(network_dir)
    url = manifest.rpc_url(manifest.nodes[0].index)
    w3 = poa_web3(url)
    if not w3.is_connected():
        raise ChainUnavailable(
            f"no node answers at {url}; start the network in {network_dir} first"
        )
    operator = Web3.to_checksum_address(manifest.deployer.address)
    if deployment_path(network_dir).exists() and not force:
        deployment = load_deployment(network_dir)
        (progress or (lambda _m: None))("verifying the existing deployment")
        verify_deployment(w3, deployment, operator=operator)
        return deployment
    deployment = deploy_contracts(
        w3, load_account(manifest.deployer), settings=settings, progress=progress
    )
    verify_deployment(w3, deployment, operator=operator)
    save_deployment(network_dir, deployment)
    return deployment
