"""Signing keys: Ed25519 key pairs for internal tokens and the development OIDC issuer, published as JWKS."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

INTERNAL_KEY_FILE = "internal.key.pem"
INTERNAL_JWKS_FILE = "internal.jwks.json"
DEV_ISSUER_KEY_FILE = "dev-issuer.key.pem"
DEV_ISSUER_JWKS_FILE = "dev-issuer.jwks.json"


@dataclass(frozen=True)
class SigningKey:
    private_key: Ed25519PrivateKey
    kid: str

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    def public_jwk(self) -> dict[str, str]:
        jwk: dict[str, str] = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(self.public_key))
        jwk.update({"kid": self.kid, "alg": "EdDSA", "use": "sig"})
        return jwk


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def generate_signing_key() -> SigningKey:
    private = Ed25519PrivateKey.generate()
    return SigningKey(private, key_id(private.public_key()))


def load_signing_key(path: Path) -> SigningKey:
    private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(private, Ed25519PrivateKey):
        raise ValueError(f"{path}: expected an Ed25519 private key")
    return SigningKey(private, key_id(private.public_key()))


def write_signing_key(key: SigningKey, key_path: Path, jwks_path: Path) -> None:
    key_path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    key_path.write_bytes(pem)
    key_path.chmod(0o600)
    jwks_path.write_text(json.dumps({"keys": [key.public_jwk()]}, indent=2))


def load_jwks(path: Path) -> jwt.PyJWKSet:
    return jwt.PyJWKSet.from_json(path.read_text())


def ensure_keys(keys_dir: Path) -> None:
    """Create the internal-token and development-issuer key pairs if they are not there yet."""
    for key_file, jwks_file in ((INTERNAL_KEY_FILE, INTERNAL_JWKS_FILE), (DEV_ISSUER_KEY_FILE, DEV_ISSUER_JWKS_FILE)):
        if not (keys_dir / key_file).exists():
            write_signing_key(generate_signing_key(), keys_dir / key_file, keys_dir / jwks_file)
