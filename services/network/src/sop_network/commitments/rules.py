"""Rules for a network member's own commitment: plain functions, no HTTP, no session.

A commitment is the member's own words. It is a proposal until the worker decides: confirmed (it may then
enter a plan, and the family and their network read it — confirming marks it ready to share, by the one
sharing rule) or declined with a reason the member reads. A decision is made once."""

from __future__ import annotations

from datetime import datetime

from sop_network.models import CommitmentStatus, NetworkCommitment
from sop_network.schemas import CommitmentDecisionIn
from sop_shared.plain_language import LanguageCheck, check_text
from sop_shared.problems import Conflict, InvalidInput
from sop_shared.sharing import mark_ready_to_share


class AlreadyDecided(Conflict):
    slug, title = "commitment-decided", "This commitment was decided already"


def commitment_check(text: str, language: str) -> LanguageCheck:
    """The plain-language check of a commitment's words (warnings only: the words stay the member's)."""
    return check_text(text, kind="network_commitment", language=language)


def decide(commitment: NetworkCommitment, body: CommitmentDecisionIn, *, by: str, now: datetime) -> NetworkCommitment:
    """Confirm or decline a proposal. Declining needs the reason (422 `reason`); confirming shares the words, so
    a check with findings needs `share_reason` (422 naming it); a decided commitment is 409. Nothing changes on
    a refusal."""
    if commitment.status != CommitmentStatus.proposed:
        raise AlreadyDecided(f"it was {commitment.status.value} already", status=commitment.status.value)
    if body.decision == "declined":
        if not body.reason:
            raise InvalidInput.field("reason", "say why the commitment is declined: the member reads it")
        commitment.status = CommitmentStatus.declined
        commitment.decline_reason = body.reason
    else:
        findings = commitment_check(commitment.text, commitment.language).findings
        try:
            mark_ready_to_share(commitment, findings=findings, reason=body.share_reason, by=by, now=now)
        except InvalidInput as refused:  # the sharing rule names its own `reason`: here it is `share_reason`
            raise InvalidInput([{**e, "field": "share_reason"} for e in refused.errors]) from None
        commitment.status = CommitmentStatus.confirmed
    commitment.decided_by = by
    commitment.decided_at = now
    commitment.version += 1
    return commitment
