"""Sign-offs bound to a version: the canonical signature record, its hash, the drawn image, the check that
proves later what exactly was signed (or that a stored row was changed), and the rule that nobody signs a
version in a language they do not read without an interpreter on the record."""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from sop_plans.models import SafetyPlanSignature, SafetyPlanVersion, SignatureDecision
from sop_plans.safety_plans.rules import canonical_json, content_hash, utc_text
from sop_plans.schemas import InterpreterIn, SignatureVerification
from sop_shared.plain_language import primary_language
from sop_shared.problems import InvalidInput

# Format 2 adds the version's language, the signer's and the interpreter; a sign-off recorded before
# languages were (language NULL) keeps its format-1 record, so it still verifies.
RECORD_FORMAT = "sop.plans.signature/2"
RECORD_FORMAT_WITHOUT_LANGUAGE = "sop.plans.signature/1"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def signature_record(signature: SafetyPlanSignature) -> dict[str, Any]:
    """Everything a sign-off says, JSON-native: the version's content hash, the signer, the method and
    affirmation, the image's hash, who recorded it and when. `signature_hash` is SHA-256 of its canonical
    JSON (the same canonical form as version content)."""
    record = {
        "format": RECORD_FORMAT_WITHOUT_LANGUAGE,
        "id": str(signature.id),
        "plan_id": str(signature.plan_id),
        "version_number": signature.version_number,
        "version_hash": signature.version_hash,
        "decision": signature.decision.value,
        "signer": {
            "name": signature.signer_name,
            "person_id": str(signature.signer_person_id) if signature.signer_person_id else None,
            "role": signature.signer_role.value,
            "participant_id": str(signature.participant_id) if signature.participant_id else None,
        },
        "method": signature.method.value if signature.method else None,
        "typed_name": signature.typed_name,
        "affirmation": signature.affirmation,
        "refusal_reason": signature.refusal_reason,
        "image_sha256": signature.image_sha256,
        "recorded_by": signature.recorded_by,
        "recorded_by_type": signature.recorded_by_type,
        "signed_at": utc_text(signature.signed_at),
    }
    if signature.language is not None:
        record |= {
            "format": RECORD_FORMAT,
            "language": signature.language,
            "signer_language": signature.signer_language,
            "interpreter": signature.interpreter,
        }
    return record


def signature_hash(signature: SafetyPlanSignature) -> str:
    return hashlib.sha256(canonical_json(signature_record(signature))).hexdigest()


def interpreter_language(
    *,
    version_language: str,
    signer_name: str,
    signer_language: str | None,
    decision: SignatureDecision,
    interpreter: InterpreterIn | None,
) -> str | None:
    """The language the signer had the version explained in (None: no interpreter), or 422 naming the field.

    A sign-off on a version in a language that is not the signer's preferred one needs the interpreter who
    explained it; the interpreter explains it in the signer's language. A signer whose language the network
    service has not announced (no person record) cannot be checked. A refusal is the family's voice and is
    always recorded, with the interpreter when there was one."""
    reads = primary_language(signer_language) if signer_language else None
    if interpreter is None:
        if decision == SignatureDecision.signed and reads is not None and reads != primary_language(version_language):
            raise InvalidInput.field(
                "interpreter",
                f"the plan is in {version_language}; {signer_name} reads {signer_language}: "
                "record the interpreter who explained it",
            )
        return None
    explained_in = interpreter.language or signer_language
    if explained_in is None:
        raise InvalidInput.field(
            "interpreter.language", f"say in which language the interpreter explained the plan to {signer_name}"
        )
    if reads is not None and primary_language(explained_in) != reads:
        raise InvalidInput.field(
            "interpreter.language",
            f"the interpreter explained it in {explained_in}; {signer_name} reads {signer_language}",
        )
    return explained_in


def decode_png(data: str, *, max_bytes: int, field: str = "image_png_base64") -> bytes:
    """A drawn signature: base64 of a PNG no larger than `max_bytes` (a data: URL prefix is accepted)."""
    if data.startswith("data:"):
        header, _, data = data.partition(",")
        if header.lower() not in ("data:image/png;base64",):
            raise InvalidInput.field(field, "must be a base64 PNG (data:image/png;base64,…)")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput.field(field, "is not valid base64") from exc
    if not raw.startswith(PNG_MAGIC):
        raise InvalidInput.field(field, "is not a PNG image")
    if len(raw) > max_bytes:
        raise InvalidInput.field(field, f"the image is {len(raw)} bytes; at most {max_bytes} are accepted")
    return raw


def verify_signature(signature: SafetyPlanSignature, version: SafetyPlanVersion | None) -> SignatureVerification:
    """Recompute everything the stored hashes promise. Any edit to the signature row, to the version it
    names, or to the stored image makes `valid` false and says which check failed."""
    recomputed = signature_hash(signature)
    checks = {
        "signature_hash": recomputed == signature.signature_hash,
        "version_hash": version is not None and version.content_hash == signature.version_hash,
        "content": version is not None and content_hash(version.content) == signature.version_hash,
        "image": (signature.image_png is None and signature.image_sha256 is None)
        or (
            signature.image_png is not None
            and hashlib.sha256(signature.image_png).hexdigest() == signature.image_sha256
        ),
    }
    return SignatureVerification(
        signature_id=signature.id,
        valid=all(checks.values()),
        checks=checks,
        signature_hash=signature.signature_hash,
        recomputed_hash=recomputed,
    )
