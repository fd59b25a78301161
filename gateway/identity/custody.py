"""Custodial wallet keys: generated here, encrypted at rest with AES-GCM under a master key.

The plaintext key exists only in memory while signing. It is never logged, never returned
by the API and never written unencrypted; the ciphertext is bound to its member's subject.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eccoo.gateway.errors import KeyCustodyError
from eccoo.gateway.settings import GatewaySettings
from eth_account import Account
from eth_account.signers.local import LocalAccount

from eccoo.secret_files import SecretExists, write_secret


def load_master_key(settings: GatewaySettings) -> bytes:
    """The 32-byte master key: from the setting, else its file, else a new local file (0600)."""
    if settings.master_key is not None:
        text = settings.master_key.get_secret_value()
    else:
        path = settings.master_key_file or settings.data_dir / "master.key"
        if not path.exists():
            if settings.master_key_file is not None:
                raise KeyCustodyError(f"master key file {path} does not exist")
            try:
                write_secret(path, secrets.token_hex(32) + "\n", private_folder=True)
            except SecretExists:
                pass  # the other gateway process made it first: use theirs
        if path.stat().st_mode & 0o077:
            raise KeyCustodyError(f"master key file {path} must not be readable by others")
        text = path.read_text()
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        raise KeyCustodyError("the master key must be 64 hex characters") from None
    if len(key) != 32:
        raise KeyCustodyError("the master key must be 64 hex characters")
    return key


@dataclass(frozen=True)
class SealedKey:
    address: str
    ciphertext: bytes
    nonce: bytes


class KeyCustody:
    """Creates and opens members' keys; holds the master key and nothing else."""

    def __init__(self, master_key: bytes) -> None:
        self._aead = AESGCM(master_key)

    def __repr__(self) -> str:
        return "KeyCustody(<sealed>)"

    def new_key(self, subject: str) -> SealedKey:
        account = Account.create()
        nonce = os.urandom(12)
        ciphertext = self._aead.encrypt(nonce, bytes(account.key), subject.encode())
        return SealedKey(account.address, ciphertext, nonce)

    def open(self, subject: str, ciphertext: bytes, nonce: bytes) -> LocalAccount:
        try:
            raw = self._aead.decrypt(nonce, ciphertext, subject.encode())
        except InvalidTag:
            raise KeyCustodyError("a custodial key could not be decrypted") from None
        return Account.from_key(raw)


def master_key_path(settings: GatewaySettings) -> Path:
    return settings.master_key_file or settings.data_dir / "master.key"
