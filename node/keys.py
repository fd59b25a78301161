"""Keys of the network: encrypted signer/account keystores, their password files, node keys.

Secrets are generated here at run time, written 0600 through `eccoo.secret_files` (never
overwritten) and never printed or logged. Decrypted accounts are cached per process.
"""

from __future__ import annotations

import json
import secrets
import threading
from pathlib import Path
from typing import Any

from coincurve import PrivateKey
from eccoo.node.errors import KeystoreError
from eccoo.node.manifest import AccountRef
from eth_account import Account
from eth_account.signers.local import LocalAccount

from eccoo import secret_files
from eccoo.secret_files import SecretExists

# Light scrypt (n = 2**12 instead of geth's 2**18): the keystore and its password file sit
# side by side on the operator's own disk, so a strong KDF buys little against someone who
# can read the folder, while the standard one costs ~1 s of CPU per decryption on every
# command, test and geth `--unlock` on a 2-core machine. geth reads any n.
LIGHT_SCRYPT_N = 2**12

_cache: dict[tuple[str, int], LocalAccount] = {}
_cache_lock = threading.Lock()


def write_secret(path: Path, data: str | bytes) -> None:
    """Create `path` with mode 0600; refuses to overwrite an existing file."""
    try:
        secret_files.write_secret(path, data)
    except SecretExists as exc:
        raise KeystoreError(exc.message, field=str(path)) from None


def create_account(keystore: Path, password_file: Path, name: str = "") -> AccountRef:
    """A new random account, encrypted into `keystore` under a generated password."""
    account = Account.create()
    password = secrets.token_urlsafe(32)
    encrypted = geth_keystore(
        Account.encrypt(account.key, password, kdf="scrypt", iterations=LIGHT_SCRYPT_N)
    )
    write_secret(password_file, password)
    write_secret(keystore, json.dumps(encrypted))
    return AccountRef(
        name=name, address=account.address, keystore=keystore, password_file=password_file
    )


def geth_keystore(encrypted: dict[str, Any]) -> dict[str, Any]:
    """The keystore with its AES-CTR IV written as the full 16 bytes.

    eth-keyfile draws the IV as an integer and writes it without leading zero bytes
    (1 key in 256); it means the same counter, but geth panics on an IV shorter than 16
    bytes ("bad IV length") and the node cannot unlock its signer."""
    params = encrypted["crypto"]["cipherparams"]
    params["iv"] = params["iv"].rjust(32, "0")
    return encrypted


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text()
    except FileNotFoundError:
        raise KeystoreError(f"{path}: {what} is missing", field=str(path)) from None
    except OSError as exc:
        raise KeystoreError(f"{path}: cannot read {what} ({exc})", field=str(path)) from None


def load_account(ref: AccountRef) -> LocalAccount:
    """Decrypt the account's keystore with its password file (cached per process)."""
    keystore = Path(ref.keystore)
    text = _read(keystore, "keystore")
    key = (str(keystore.resolve()), hash(text))
    with _cache_lock:
        if key in _cache:
            return _cache[key]
    password = _read(Path(ref.password_file), "password file").strip()
    try:
        private_key = Account.decrypt(json.loads(text), password)
    except ValueError as exc:
        raise KeystoreError(
            f"{keystore}: keystore does not decrypt ({exc})", field=str(keystore)
        ) from None
    account: LocalAccount = Account.from_key(private_key)
    if account.address.lower() != ref.address.lower():
        raise KeystoreError(
            f"{keystore}: holds {account.address}, manifest expects {ref.address}",
            field=str(keystore),
        )
    with _cache_lock:
        _cache[key] = account
    return account


def create_node_key(datadir: Path) -> str:
    """Write geth's p2p key (`<datadir>/geth/nodekey`, 0600); return the 128-hex node id."""
    key = PrivateKey()
    write_secret(datadir / "geth" / "nodekey", key.secret.hex())
    return key.public_key.format(compressed=False)[1:].hex()


def node_id(datadir: Path) -> str:
    """The node id (public key) of an existing node key."""
    secret = _read(datadir / "geth" / "nodekey", "node key").strip()
    return PrivateKey(bytes.fromhex(secret)).public_key.format(compressed=False)[1:].hex()
