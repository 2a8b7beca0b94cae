"""The keys behind an audit trail an auditor can trust.

Two kinds, both files outside the component's database (so writing the database is not enough to forge):

* **Chain keys** (HMAC-SHA256): a directory of `<key id>.key` files, each holding at least 32 random bytes
  as hex. Every audit record is keyed with the *current* key and names its key id; older keys stay in the
  directory so older records still verify. Rotation adds a new file and points `CURRENT` at it.
* **The checkpoint signing key** (Ed25519, like the internal-token keys in `sop_shared.keys`): signs the
  chain head the component publishes to JetStream; its public JWKS is all anyone needs to check one.

In development both are generated on first start; in production they are required, and a missing,
short or placeholder key is refused at start-up rather than silently auditing with a guessable one.
"""

from __future__ import annotations

import hmac
import os
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sop_shared.keys import SigningKey, generate_signing_key, load_jwks, load_signing_key, write_signing_key

CURRENT_FILE = "CURRENT"
KEY_SUFFIX = ".key"
MIN_KEY_BYTES = 32
_KEY_ID = re.compile(r"^[A-Za-z0-9._-]{1,40}$")
# Values people paste while setting up; a chain keyed with one of them protects nothing.
_PLACEHOLDERS = ("change", "placeholder", "example", "secret", "todo", "xxxx")


class AuditKeyError(RuntimeError):
    """The audit keys are missing or unusable: the component must not start (production) or verify."""


def audit_keys_dir(keys_dir: Path, component: str) -> Path:
    return keys_dir / "audit" / component


def audit_signing_key_file(keys_dir: Path, component: str) -> Path:
    return keys_dir / f"audit-{component}.key.pem"


def audit_jwks_file(keys_dir: Path, component: str) -> Path:
    return keys_dir / f"audit-{component}.jwks.json"


@dataclass(frozen=True)
class AuditKeyring:
    """The chain keys of one component: the current one keys new records, all of them verify."""

    keys: dict[str, bytes]
    current_id: str

    def mac(self, key_id: str, message: bytes) -> str:
        return hmac.new(self.keys[key_id], message, "sha256").hexdigest()

    def knows(self, key_id: str) -> bool:
        return key_id in self.keys


def _check_key(path: Path, raw: str) -> bytes:
    text = raw.strip()
    if any(word in text.lower() for word in _PLACEHOLDERS):
        raise AuditKeyError(f"{path}: a placeholder, not a key")
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise AuditKeyError(f"{path}: expected hex ({MIN_KEY_BYTES}+ random bytes)") from None
    if len(key) < MIN_KEY_BYTES or len(set(key)) < 8:
        raise AuditKeyError(f"{path}: too short or not random ({MIN_KEY_BYTES}+ random bytes as hex)")
    return key


def load_audit_keyring(directory: Path) -> AuditKeyring:
    """Every `<id>.key` in `directory`; the current one is named in `CURRENT` (else the greatest id, which
    for generated ids is the newest)."""
    if not directory.is_dir():
        raise AuditKeyError(f"{directory}: no audit key directory")
    keys = {}
    for path in sorted(directory.glob(f"*{KEY_SUFFIX}")):
        key_id = path.name[: -len(KEY_SUFFIX)]
        if not _KEY_ID.match(key_id):
            raise AuditKeyError(f"{path}: a key id is 1-40 letters, digits, '.', '_' or '-'")
        keys[key_id] = _check_key(path, path.read_text())
    if not keys:
        raise AuditKeyError(f"{directory}: no audit keys (*{KEY_SUFFIX})")
    current_file = directory / CURRENT_FILE
    current = current_file.read_text().strip() if current_file.exists() else max(keys)
    if current not in keys:
        raise AuditKeyError(f"{current_file}: names {current!r}, which is not in {directory}")
    return AuditKeyring(keys, current)


def new_audit_key(directory: Path) -> str:
    """Add a fresh chain key and make it current (rotation); older keys stay for verification."""
    directory.mkdir(parents=True, exist_ok=True)
    key_id = datetime.now(UTC).strftime("k%Y%m%dT%H%M%S") + "-" + secrets.token_hex(2)
    path = directory / f"{key_id}{KEY_SUFFIX}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(MIN_KEY_BYTES) + "\n")
    (directory / CURRENT_FILE).write_text(key_id + "\n")
    return key_id


@dataclass(frozen=True)
class AuditKeys:
    """What a component audits with: chain keys, and the key that signs its checkpoints."""

    keyring: AuditKeyring
    signing_key: SigningKey | None  # None: a verifier that only holds the public key
    public_keys: dict[str, object]  # kid -> Ed25519 public key, for checking checkpoints


def ensure_audit_keys(keys_dir: Path, component: str) -> None:
    """Development: a chain key and a checkpoint signing key for `component`, made on first start."""
    directory = audit_keys_dir(keys_dir, component)
    if not any(directory.glob(f"*{KEY_SUFFIX}")):
        new_audit_key(directory)
    key_file = audit_signing_key_file(keys_dir, component)
    if not key_file.exists():
        write_signing_key(generate_signing_key(), key_file, audit_jwks_file(keys_dir, component))


def load_audit_keys(
    *,
    component: str,
    keys_dir: Path,
    chain_keys_dir: Path | None = None,
    signing_key_file: Path | None = None,
    jwks_file: Path | None = None,
    development: bool,
    need_signing_key: bool = True,
) -> AuditKeys:
    """The component's audit keys. In development the defaults under `keys_dir` are created if missing; in
    production the chain key directory and the signing key file must be configured and usable."""
    if development:
        if chain_keys_dir is None and signing_key_file is None:
            ensure_audit_keys(keys_dir, component)
    elif chain_keys_dir is None or (need_signing_key and signing_key_file is None):
        prefix = f"SOP_{component.upper()}_"
        raise AuditKeyError(f"production needs {prefix}AUDIT_KEYS_DIR and {prefix}AUDIT_SIGNING_KEY_FILE")
    keyring = load_audit_keyring(chain_keys_dir or audit_keys_dir(keys_dir, component))
    key_file = signing_key_file or audit_signing_key_file(keys_dir, component)
    signing_key = None
    if need_signing_key or key_file.exists():
        if not key_file.exists():
            raise AuditKeyError(f"{key_file}: no audit checkpoint signing key")
        signing_key = load_signing_key(key_file)
    public_keys: dict[str, object] = {}
    jwks_path = jwks_file or (
        key_file.parent / f"audit-{component}.jwks.json" if signing_key_file else audit_jwks_file(keys_dir, component)
    )
    if jwks_path.exists():
        for jwk in load_jwks(jwks_path).keys:
            public_keys[str(jwk.key_id)] = jwk.key
    if signing_key is not None:
        public_keys.setdefault(signing_key.kid, signing_key.public_key)
    return AuditKeys(keyring, signing_key, public_keys)
