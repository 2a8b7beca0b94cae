"""SDM instrument definitions as data: the schema every instrument file is validated against, and the
catalog that loads the packaged (illustrative) files plus the state's licensed ones from a folder.

An instrument file lives at `<key>/<version>.json`; its `key` and `version` must match the path. The
engine (`sdm/rules.py`) only interprets these structures, so a licensed instrument with the same
structure needs no code change.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

PACKAGED_DIR = Path(__file__).parent / "instruments"
CODE = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"

# Signals an instrument may raise on an outcome; the code knows what each one means (an event subject).
KNOWN_SIGNALS = frozenset({"safety_plan_required"})


class InstrumentKind(StrEnum):
    hotline_screening = "hotline_screening"
    safety_assessment = "safety_assessment"
    risk_assessment = "risk_assessment"
    risk_reassessment = "risk_reassessment"
    reunification_reassessment = "reunification_reassessment"
    strengths_and_needs = "strengths_and_needs"


class ItemType(StrEnum):
    single = "single"  # one option (lettered options carrying points)
    multi = "multi"  # any number of options (e.g. safety interventions)
    yes_no = "yes_no"  # true / false (e.g. a safety threat)
    rating = "rating"  # one rating from the instrument's rating scale (A-D or 0-3)
    text = "text"  # narrative
    number = "number"


class RatingStyle(StrEnum):
    letter_a_d = "letter_a_d"  # SDM strengths and needs: A strength ... D contributes to danger
    action_0_3 = "action_0_3"  # FAST / CANS: 0 no evidence / centerpiece strength ... 3 immediate action


RATING_CODES: dict[RatingStyle, tuple[str, ...]] = {
    RatingStyle.letter_a_d: ("A", "B", "C", "D"),
    RatingStyle.action_0_3: ("0", "1", "2", "3"),
}


class Schema(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Option(Schema):
    code: str = Field(pattern=CODE)
    label: str = Field(min_length=1)
    points: int = 0
    # Labels the engine can ask about, e.g. "protective_placement", "in_home_intervention".
    flags: tuple[str, ...] = ()
    controls: tuple[str, ...] = ()  # threat item codes an intervention controls


class Item(Schema):
    code: str = Field(pattern=CODE)
    text: str = Field(min_length=1)
    section: str = "main"
    type: ItemType
    options: tuple[Option, ...] = ()
    index: str | None = None  # the index whose score this item's points add to
    required: bool = True
    per_child: bool = False  # answered for each child; decisions are then made per child
    domain: Literal["need", "strength"] | None = None  # for rating items: what a rating means
    sub_indicators: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _options_fit_the_type(self) -> Item:
        has_options = self.type in (ItemType.single, ItemType.multi)
        if has_options and not self.options:
            raise ValueError(f"item {self.code}: a {self.type.value} item needs options")
        if not has_options and self.options:
            raise ValueError(f"item {self.code}: a {self.type.value} item has no options")
        codes = [o.code for o in self.options]
        if len(codes) != len(set(codes)):
            raise ValueError(f"item {self.code}: option codes repeat")
        return self


class Threshold(Schema):
    level: str
    min: int  # inclusive; the highest threshold whose min the score reaches decides the level


class Index(Schema):
    key: str = Field(pattern=CODE)
    label: str
    thresholds: tuple[Threshold, ...] = Field(min_length=1)


class Condition(Schema):
    """One test on the answers or the computed results; exactly one kind per condition."""

    all: tuple[Condition, ...] | None = None
    any: tuple[Condition, ...] | None = None
    not_: Condition | None = Field(default=None, alias="not")
    always: bool | None = None
    answer: str | None = None  # item code; with `equals` or `in`
    equals: Any = None
    in_: tuple[Any, ...] | None = Field(default=None, alias="in")
    flag: str | None = None  # some selected option carries this flag
    count_yes: str | None = None  # section name: how many yes_no items of it are answered yes (min/max)
    min: int | None = None
    max: int | None = None
    index: str | None = None  # index key; with min/max on the score or `in` on the level
    level: bool | None = None  # the scored level; with `in`
    decision: str | None = None  # an earlier decision; with `in`

    @model_validator(mode="after")
    def _exactly_one_kind(self) -> Condition:
        kinds = [
            k
            for k in ("all", "any", "not_", "always", "answer", "flag", "count_yes", "index", "level", "decision")
            if getattr(self, k) is not None
        ]
        if len(kinds) != 1:
            raise ValueError(
                f"a condition has exactly one of all/any/not/always/answer/flag/count_yes/index/"
                f"level/decision, not {kinds or 'none'}"
            )
        return self


class DecisionRule(Schema):
    when: Condition
    outcome: str


class Decision(Schema):
    """A decision made from the answers: the first rule that holds gives the outcome."""

    key: str = Field(pattern=CODE)
    label: str
    outcomes: tuple[str, ...] = Field(min_length=1)  # least to most severe/urgent
    rules: tuple[DecisionRule, ...]
    default: str | None = None
    per_child: bool = False  # decided for each child; overall = the most severe child's outcome
    signals: dict[str, tuple[str, ...]] = Field(default_factory=dict)  # outcome -> signals raised
    # outcomes that close the case (e.g. a "close" recommendation): they schedule no reassessment
    closing: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _outcomes_known(self) -> Decision:
        named = [r.outcome for r in self.rules] + ([self.default] if self.default else []) + list(self.signals)
        named += list(self.closing)
        unknown = sorted({o for o in named if o not in self.outcomes})
        if unknown:
            raise ValueError(f"decision {self.key}: outcomes {unknown} are not among {list(self.outcomes)}")
        bad = sorted({s for sigs in self.signals.values() for s in sigs} - KNOWN_SIGNALS)
        if bad:
            raise ValueError(f"decision {self.key}: unknown signals {bad}; known: {sorted(KNOWN_SIGNALS)}")
        return self


class Check(Schema):
    """A rule the completed answers must keep, or the assessment cannot be completed (422 naming `field`)."""

    when: Condition
    require: Condition
    field: str
    message: str


class PolicyOverride(Schema):
    code: str = Field(pattern=CODE)
    text: str


class Overrides(Schema):
    """Overrides of the scored level: policy ones force `policy_level`; a discretionary one raises the level
    by exactly `discretionary_steps` and needs a supervisor's approval."""

    policy: tuple[PolicyOverride, ...] = ()
    policy_level: str | None = None
    discretionary_steps: int | None = Field(default=None, ge=1, le=1)


class Downgrade(Schema):
    """A decision the worker may lower (e.g. the response priority); the lower one needs approval."""

    decision: str


class DueRule(Schema):
    """When something is due: `working_days` (weekends and configured holidays skipped) or `calendar_days`
    or `hours` after an anchor date the worker gives (e.g. `first_contact`)."""

    key: str = Field(pattern=CODE)
    label: str
    anchor: str = Field(pattern=CODE)
    working_days: int | None = Field(default=None, ge=0)
    calendar_days: int | None = Field(default=None, ge=0)
    hours: int | None = Field(default=None, ge=0)
    when: Condition | None = None  # the rule applies only when this holds (e.g. the response priority)
    reassessment: bool = False  # it schedules a reassessment: a closing outcome leaves it out

    @model_validator(mode="after")
    def _one_span(self) -> DueRule:
        if sum(x is not None for x in (self.working_days, self.calendar_days, self.hours)) != 1:
            raise ValueError(f"due rule {self.key}: give exactly one of working_days, calendar_days, hours")
        return self


class ResponsePriority(Schema):
    """A screened-in report always has a response priority with an initiation deadline. `screening` is the
    decision that screens the report, `screened_in` its outcomes that need a response; `decision` is the response
    priority, `no_response` its outcomes that mean no response (right only for a report screened out);
    `deadline` is the key of the due rules that give the initiation deadline from the priority (by their
    `when`). A hotline screening instrument must say this."""

    screening: str = Field(pattern=CODE)
    screened_in: tuple[str, ...] = Field(min_length=1)
    decision: str = Field(pattern=CODE)
    no_response: tuple[str, ...] = ()
    deadline: str = Field(pattern=CODE)


class Instrument(Schema):
    key: str = Field(pattern=CODE)
    version: str = Field(pattern=CODE)
    kind: InstrumentKind
    title: str
    illustrative: bool
    notice: str = ""
    effective_from: str | None = None
    assessment_types: tuple[str, ...] = ()
    rating_style: RatingStyle | None = None
    levels: tuple[str, ...] = ()  # ordered low to high, for instruments that score a level
    items: tuple[Item, ...] = Field(min_length=1)
    indices: tuple[Index, ...] = ()
    scored_level: Literal["highest_index"] | None = None
    decisions: tuple[Decision, ...] = ()
    checks: tuple[Check, ...] = ()
    overrides: Overrides = Overrides()
    downgrade: Downgrade | None = None
    response_priority: ResponsePriority | None = None
    due: tuple[DueRule, ...] = ()
    priority_ratings: tuple[str, ...] = ()  # ratings of need items that make a priority need
    strength_ratings: tuple[str, ...] = ()  # ratings of strength items that make a useful strength

    def item(self, code: str) -> Item | None:
        return next((i for i in self.items if i.code == code), None)

    @model_validator(mode="after")
    def _consistent(self) -> Instrument:
        problems: list[str] = []
        codes = [i.code for i in self.items]
        if len(codes) != len(set(codes)):
            problems.append("item codes repeat")
        index_keys = {i.key for i in self.indices}
        for item in self.items:
            if item.index and item.index not in index_keys:
                problems.append(f"item {item.code} adds to unknown index {item.index}")
            if item.type == ItemType.rating and self.rating_style is None:
                problems.append(f"item {item.code} is a rating but the instrument has no rating_style")
            for option in item.options:
                problems += [
                    f"option {item.code}.{option.code} controls unknown item {c}"
                    for c in option.controls
                    if c not in codes
                ]
        for index in self.indices:
            mins = [t.min for t in index.thresholds]
            if mins != sorted(mins) or len(set(mins)) != len(mins):
                problems.append(f"index {index.key}: thresholds must rise")
            if self.scored_level:
                problems += [
                    f"index {index.key}: level {t.level} is not among levels"
                    for t in index.thresholds
                    if t.level not in self.levels
                ]
        if self.scored_level and not self.indices:
            problems.append("scored_level needs indices")
        if self.overrides.policy and self.overrides.policy_level not in self.levels:
            problems.append("overrides.policy_level must be one of levels")
        if (self.overrides.policy or self.overrides.discretionary_steps) and not self.scored_level:
            problems.append("overrides need a scored level")
        decision_keys = [d.key for d in self.decisions]
        if self.downgrade and self.downgrade.decision not in decision_keys:
            problems.append(f"downgrade names unknown decision {self.downgrade.decision}")
        problems += _response_priority_problems(self)
        if self.rating_style:
            allowed = RATING_CODES[self.rating_style]
            problems += [
                f"rating {r} is not a {self.rating_style.value} rating"
                for r in (*self.priority_ratings, *self.strength_ratings)
                if r not in allowed
            ]
        for condition in _conditions(self):
            problems += _condition_problems(condition, self, codes, index_keys, decision_keys)
        if problems:
            raise ValueError("; ".join(problems))
        return self


def _response_priority_problems(instrument: Instrument) -> list[str]:
    rp = instrument.response_priority
    if rp is None:
        if instrument.kind == InstrumentKind.hotline_screening:
            return ["a hotline screening instrument needs response_priority (the screening and priority decisions)"]
        return []
    outcomes = {d.key: d.outcomes for d in instrument.decisions}
    problems = [
        f"response_priority names unknown decision {key}" for key in (rp.screening, rp.decision) if key not in outcomes
    ]
    if problems:
        return problems
    problems += [
        f"response_priority.screened_in: {o} is not an outcome of {rp.screening}"
        for o in rp.screened_in
        if o not in outcomes[rp.screening]
    ]
    problems += [
        f"response_priority.no_response: {o} is not an outcome of {rp.decision}"
        for o in rp.no_response
        if o not in outcomes[rp.decision]
    ]
    if not any(d.key == rp.deadline for d in instrument.due):
        problems.append(f"response_priority.deadline: no due rule has the key {rp.deadline}")
    return problems


def _conditions(instrument: Instrument) -> list[Condition]:
    roots = [r.when for d in instrument.decisions for r in d.rules]
    roots += [c.when for c in instrument.checks] + [c.require for c in instrument.checks]
    roots += [d.when for d in instrument.due if d.when is not None]
    found: list[Condition] = []
    while roots:
        c = roots.pop()
        found.append(c)
        roots += list(c.all or ()) + list(c.any or ()) + ([c.not_] if c.not_ else [])
    return found


def _condition_problems(
    c: Condition, instrument: Instrument, codes: list[str], index_keys: set[str], decision_keys: list[str]
) -> list[str]:
    if c.answer is not None and c.answer not in codes:
        return [f"a condition names unknown item {c.answer}"]
    if c.index is not None and c.index not in index_keys:
        return [f"a condition names unknown index {c.index}"]
    if c.decision is not None and c.decision not in decision_keys:
        return [f"a condition names unknown decision {c.decision}"]
    if c.count_yes is not None and not any(i.section == c.count_yes for i in instrument.items):
        return [f"a condition counts unknown section {c.count_yes}"]
    return []


class InstrumentFileError(ValueError):
    """An instrument file that does not fit the schema: the service refuses it loudly, naming the file."""


@dataclass(frozen=True)
class LoadedInstrument:
    instrument: Instrument
    source: str  # "packaged" or "configured"
    sha256: str  # of the file's bytes, stored with each result so a changed file shows


@dataclass
class Catalog:
    by_key: dict[tuple[str, str], LoadedInstrument] = field(default_factory=dict)

    def get(self, key: str, version: str) -> LoadedInstrument | None:
        return self.by_key.get((key, version))

    def all(self) -> list[LoadedInstrument]:
        return [self.by_key[k] for k in sorted(self.by_key)]


def load_instrument_file(path: Path, *, source: str) -> LoadedInstrument:
    raw = path.read_bytes()
    try:
        instrument = Instrument.model_validate(json.loads(raw))
    except (json.JSONDecodeError, ValidationError) as exc:
        raise InstrumentFileError(f"{path}: {exc}") from exc
    if (instrument.key, instrument.version) != (path.parent.name, path.stem):
        raise InstrumentFileError(
            f"{path}: key/version {instrument.key}/{instrument.version} do not match the path <key>/<version>.json"
        )
    return LoadedInstrument(instrument, source, hashlib.sha256(raw).hexdigest())


def load_catalog(configured_dir: Path | None = None) -> Catalog:
    """The packaged illustrative instruments, then the configured folder's (the state's licensed ones);
    a configured file with the same key and version as a packaged one replaces it."""
    catalog = Catalog()
    for directory, source in ((PACKAGED_DIR, "packaged"), (configured_dir, "configured")):
        if directory is None:
            continue
        if not directory.is_dir():
            raise InstrumentFileError(f"instruments folder {directory} does not exist")
        for path in sorted(directory.glob("*/*.json")):
            loaded = load_instrument_file(path, source=source)
            catalog.by_key[(loaded.instrument.key, loaded.instrument.version)] = loaded
    return catalog
