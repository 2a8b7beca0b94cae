"""Safety-plan policy as versioned configuration with effective dates (DOMAIN.md: **config**): how long
each type of plan may run, how often it is reviewed, when alerts start, whose signatures make it binding.

The rules live in `config/plan_rules.json` (or the file named by SOP_PLANS_POLICY_FILE), never in code.
A plan is governed by the rule set in force on its effective date, and records that rule set's id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from sop_plans.models import PlanType

# DOMAIN.md, "Arkansas time rules": safety plans are reviewed at least every 90 days.
LONGEST_REVIEW_INTERVAL_DAYS = 90


class PlanTypeRule(BaseModel):
    default_days: int = Field(ge=1, le=366, description="expires_at when none is given: effective_from + this")
    max_days: int = Field(ge=1, le=366, description="the longest a plan of this type may run")
    review_every_days: int = Field(ge=1, le=LONGEST_REVIEW_INTERVAL_DAYS)

    @model_validator(mode="after")
    def _default_within_max(self) -> PlanTypeRule:
        if self.default_days > self.max_days:
            raise ValueError("default_days must not exceed max_days")
        return self


class RuleSet(BaseModel):
    id: str = Field(min_length=1, max_length=100)
    effective_from: date
    source: str = ""
    plan_types: dict[PlanType, PlanTypeRule]
    expiry_warning_days: int = Field(ge=0, le=60)
    review_warning_days: int = Field(ge=0, le=60)
    expired_alert_days: int = Field(default=7, ge=0, le=60, description="how long an expired plan stays an alert")
    # "all": every caregiver named in the plan must sign; "any": at least one caregiver; "none": no rule.
    caregiver_signatures: Literal["all", "any", "none"] = "all"
    # An immediate plan takes effect when the worker and every caregiver sign on the spot; the supervisor's
    # approval must follow within this many hours (else the alert immediate_plan_approval_overdue).
    immediate_approval_within_hours: int = Field(default=24, ge=1, le=168)
    # A safety assessment decided "conditionally safe" needs an immediate or ongoing plan in force within this
    # many hours of the decision (else the alert conditionally_safe_without_plan, to worker and supervisor).
    # Hours, fractions allowed (a test system runs with a few seconds).
    conditionally_safe_plan_within_hours: float = Field(default=24, gt=0, le=168)
    # A check-in saying a rule was broken is an alert to the worker at once, for this many days or until a
    # later check-in says the rule was kept.
    broken_rule_alert_days: int = Field(default=7, ge=1, le=60)

    @model_validator(mode="after")
    def _every_type(self) -> RuleSet:
        missing = set(PlanType) - set(self.plan_types)
        if missing:
            raise ValueError(f"rule set {self.id} has no rule for plan types {sorted(missing)}")
        return self

    def for_type(self, plan_type: PlanType) -> PlanTypeRule:
        return self.plan_types[plan_type]


class PolicyFile(BaseModel):
    rule_sets: list[RuleSet] = Field(min_length=1)


@dataclass(frozen=True)
class PlanPolicy:
    rule_sets: tuple[RuleSet, ...]  # oldest first

    def in_force_on(self, moment: datetime | date) -> RuleSet:
        """The rule set in force on that day; before the first one, the first one (so a back-dated plan is
        still governed by something, and says which)."""
        day = moment.date() if isinstance(moment, datetime) else moment
        chosen = self.rule_sets[0]
        for rule_set in self.rule_sets:
            if rule_set.effective_from <= day:
                chosen = rule_set
        return chosen

    def by_id(self, rule_set_id: str) -> RuleSet:
        for rule_set in self.rule_sets:
            if rule_set.id == rule_set_id:
                return rule_set
        return self.rule_sets[-1]

    def review_interval(self, rule_set_id: str, plan_type: PlanType) -> timedelta:
        return timedelta(days=self.by_id(rule_set_id).for_type(plan_type).review_every_days)


def load_policy(path: Path | None = None) -> PlanPolicy:
    raw = (
        path.read_text(encoding="utf-8")
        if path is not None
        else resources.files("sop_plans").joinpath("config/plan_rules.json").read_text(encoding="utf-8")
    )
    parsed = PolicyFile.model_validate(json.loads(raw))
    ordered = sorted(parsed.rule_sets, key=lambda r: r.effective_from)
    if len({r.id for r in ordered}) != len(ordered):
        raise ValueError("rule set ids must be unique")
    if len({r.effective_from for r in ordered}) != len(ordered):
        raise ValueError("two rule sets take effect on the same day")
    return PlanPolicy(tuple(ordered))
