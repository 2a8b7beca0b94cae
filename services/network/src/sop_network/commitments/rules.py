"""Rules for a network member's commitments: plain functions, no HTTP, no session.

A member's own commitment is their own words. It is a proposal until the worker decides: confirmed (it may then
enter a plan, and the family and their network read it — confirming marks it ready to share, by the one
sharing rule) or declined with a reason the member reads (in the agency's language, checked and translated like
the other words a member reads). A decision is made once. A commitment the worker records with a member is
confirmed by that worker in the same act, by the same sharing rule."""

from __future__ import annotations

from datetime import datetime

from sop_network.models import CommitmentOrigin, CommitmentStatus, NetworkCommitment
from sop_network.schemas import CommitmentDecisionIn
from sop_shared.plain_language import LanguageCheck, check_text
from sop_shared.problems import Conflict, InvalidInput
from sop_shared.sharing import mark_ready_to_share, reason_to_share, unshare
from sop_shared.translations import AGENCY_LANGUAGE


class AlreadyDecided(Conflict):
    slug, title = "commitment-decided", "This commitment was decided already"


class AlreadyWithdrawn(Conflict):
    slug, title = "commitment-withdrawn", "This commitment was withdrawn or declined already"


def commitment_check(text: str, language: str) -> LanguageCheck:
    """The plain-language check of a commitment's words (warnings only: the words stay the member's)."""
    return check_text(text, kind="network_commitment", language=language)


def decline_reason_check(reason: str, language: str | None) -> LanguageCheck:
    """The plain-language check of the worker's reason for declining (the member reads it)."""
    return check_text(reason, kind="network_commitment", language=language or AGENCY_LANGUAGE)


def confirm(commitment: NetworkCommitment, *, share_reason: str | None, by: str, now: datetime) -> NetworkCommitment:
    """The worker confirms the commitment: its words are shared, so a check with findings needs `share_reason`
    (422 naming it, nothing changes)."""
    findings = commitment_check(commitment.text, commitment.language).findings
    reason_to_share(findings, share_reason, field="share_reason")  # 422 naming `share_reason`, before any change
    mark_ready_to_share(commitment, findings=findings, reason=share_reason, by=by, now=now)
    commitment.status = CommitmentStatus.confirmed
    commitment.decided_by = by
    commitment.decided_at = now
    return commitment


def recorded_by_worker(commitment: NetworkCommitment, *, share_reason: str | None, by: str, now: datetime) -> None:
    """A commitment the worker records with a member: confirmed by that worker in the same act (version 1)."""
    commitment.origin = CommitmentOrigin.worker
    confirm(commitment, share_reason=share_reason, by=by, now=now)


def decide(commitment: NetworkCommitment, body: CommitmentDecisionIn, *, by: str, now: datetime) -> NetworkCommitment:
    """Confirm or decline a proposal. Declining needs the reason (422 `reason`), which the member reads: a check
    of it with findings needs `share_reason` (kept as the record's `share_reason`); confirming shares the words,
    so a check with findings needs `share_reason` (422 naming it); a decided commitment is 409. Nothing changes
    on a refusal."""
    if commitment.status != CommitmentStatus.proposed:
        raise AlreadyDecided(f"it was {commitment.status.value} already", status=commitment.status.value)
    if body.decision == "declined":
        if not body.reason:
            raise InvalidInput.field("reason", "say why the commitment is declined: the member reads it")
        language = body.reason_language or AGENCY_LANGUAGE
        findings = decline_reason_check(body.reason, language).findings
        kept = reason_to_share(findings, body.share_reason, field="share_reason")
        commitment.status = CommitmentStatus.declined
        commitment.decline_reason = body.reason
        commitment.decline_reason_language = language
        commitment.share_reason = kept
        commitment.decided_by = by
        commitment.decided_at = now
    else:
        confirm(commitment, share_reason=body.share_reason, by=by, now=now)
    commitment.version += 1
    return commitment


def withdraw(commitment: NetworkCommitment, *, reason: str, by: str, now: datetime) -> NetworkCommitment:
    """A proposed or confirmed commitment that no longer holds: withdrawn with the worker's reason, no longer
    shared (the family and the network stop reading it; the member who proposed it still reads their own), kept
    for the record. A declined or withdrawn one is 409."""
    if commitment.status not in (CommitmentStatus.proposed, CommitmentStatus.confirmed):
        raise AlreadyWithdrawn(f"it was {commitment.status.value} already", status=commitment.status.value)
    unshare(commitment)
    commitment.status = CommitmentStatus.withdrawn
    commitment.withdrawn_by = by
    commitment.withdrawn_at = now
    commitment.withdraw_reason = reason
    commitment.version += 1
    return commitment
