"""The SDM engine: check answers against an instrument, compute every score, level and decision, apply
overrides, and compute due dates. Plain functions over data; no HTTP, no session."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sop_assessment.sdm.instrument import (
    RATING_CODES,
    Condition,
    Decision,
    DueRule,
    Instrument,
    Item,
    ItemType,
)

TEXT_ANSWER_MAX = 4000
THREATS_SECTION = "threats"  # the section of an instrument whose yes/no items are safety threats
PROTECTIVE_FLAG = "protective_placement"  # an option that is a protective intervention (e.g. custody)
Answers = Mapping[str, Any]
Errors = list[dict[str, str]]


class OverrideRefused(ValueError):
    """An override the instrument does not allow; the message says why (422 on `field`)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


# --- answers ---------------------------------------------------------------------------------------------


def _answer_problem(item: Item, value: Any, instrument: Instrument) -> str | None:
    if value is None:
        return None  # unanswered; completeness is checked separately
    if item.type == ItemType.yes_no:
        return None if isinstance(value, bool) else "answer true or false"
    if item.type == ItemType.number:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return None if ok else "answer a number"
    if item.type == ItemType.text:
        if not isinstance(value, str):
            return "answer with text"
        return None if len(value) <= TEXT_ANSWER_MAX else f"at most {TEXT_ANSWER_MAX} characters"
    codes = (
        [o.code for o in item.options]
        if item.type != ItemType.rating
        else list(RATING_CODES[instrument.rating_style])
        if instrument.rating_style
        else []
    )
    if item.type == ItemType.multi:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return f"answer a list of option codes from {codes}"
        if len(set(value)) != len(value):
            return "an option is chosen twice"
        unknown = [v for v in value if v not in codes]
        return f"unknown option(s) {unknown}; choose from {codes}" if unknown else None
    if not isinstance(value, str) or value not in codes:
        return f"choose one of {codes}"
    return None


def answer_errors(
    instrument: Instrument, answers: Answers, children: Sequence[Mapping[str, Any]], *, complete: bool
) -> Errors:
    """Every answer that does not fit its item, and (when completing) every required item left unanswered.
    A `per_child` item is answered for each child (or once for all of them in `answers`)."""
    errors: Errors = []
    per_child = {i.code for i in instrument.items if i.per_child}

    def check(values: Answers, prefix: str, allowed: set[str] | None) -> None:
        for code, value in values.items():
            item = instrument.item(code)
            if item is None:
                errors.append({"field": f"{prefix}.{code}", "message": "no such item in this instrument"})
            elif allowed is not None and code not in allowed:
                errors.append({"field": f"{prefix}.{code}", "message": "this item is not answered per child"})
            elif (problem := _answer_problem(item, value, instrument)) is not None:
                errors.append({"field": f"{prefix}.{code}", "message": problem})

    check(answers, "answers", None)
    for n, child in enumerate(children):
        check(child.get("answers") or {}, f"children.{n}.answers", per_child)
    if complete:
        for item in instrument.items:
            if not item.required or answers.get(item.code) is not None:
                continue
            if item.per_child and children:
                for n, child in enumerate(children):
                    if (child.get("answers") or {}).get(item.code) is None:
                        errors.append(
                            {
                                "field": f"children.{n}.answers.{item.code}",
                                "message": "required to complete the assessment",
                            }
                        )
            else:
                errors.append({"field": f"answers.{item.code}", "message": "required to complete the assessment"})
    return errors


# --- scoring -----------------------------------------------------------------------------------------------


def _selected(item: Item, value: Any) -> list[str]:
    if value is None:
        return []
    if item.type == ItemType.multi:
        return list(value)
    if item.type == ItemType.single:
        return [value]
    return []


def item_points(item: Item, value: Any) -> int:
    return sum(o.points for o in item.options if o.code in _selected(item, value))


def index_scores(instrument: Instrument, answers: Answers) -> dict[str, int]:
    """Each index's score: the points of the chosen options of its items."""
    scores = {index.key: 0 for index in instrument.indices}
    for item in instrument.items:
        if item.index:
            scores[item.index] += item_points(item, answers.get(item.code))
    return scores


def level_for(thresholds: Iterable[Any], score: int) -> str:
    """The level of the highest threshold the score reaches (the first threshold if it reaches none)."""
    thresholds = list(thresholds)
    level: str = thresholds[0].level
    for threshold in thresholds:
        if score >= threshold.min:
            level = threshold.level
    return level


def highest(levels: Sequence[str], candidates: Iterable[str]) -> str:
    return max(candidates, key=levels.index)


class _Context:
    def __init__(
        self,
        instrument: Instrument,
        answers: Answers,
        indices: dict[str, dict[str, Any]],
        level: str | None,
        decisions: dict[str, str],
    ) -> None:
        self.instrument, self.answers, self.indices = instrument, answers, indices
        self.level, self.decisions = level, decisions

    def flags(self) -> set[str]:
        found: set[str] = set()
        for item in self.instrument.items:
            chosen = _selected(item, self.answers.get(item.code))
            found |= {f for o in item.options if o.code in chosen for f in o.flags}
        return found


def holds(condition: Condition, ctx: _Context) -> bool:
    c = condition
    if c.all is not None:
        return all(holds(x, ctx) for x in c.all)
    if c.any is not None:
        return any(holds(x, ctx) for x in c.any)
    if c.not_ is not None:
        return not holds(c.not_, ctx)
    if c.always is not None:
        return c.always
    if c.answer is not None:
        value = ctx.answers.get(c.answer)
        if c.in_ is not None:
            return value in c.in_ if not isinstance(value, list) else bool(set(value) & set(c.in_))
        return bool(value == c.equals)
    if c.flag is not None:
        return c.flag in ctx.flags()
    if c.count_yes is not None:
        n = sum(
            1
            for i in ctx.instrument.items
            if i.section == c.count_yes and i.type == ItemType.yes_no and ctx.answers.get(i.code) is True
        )
        return _within(n, c.min, c.max)
    if c.index is not None:
        index = ctx.indices[c.index]
        if c.in_ is not None:
            return index["level"] in c.in_
        return _within(index["score"], c.min, c.max)
    if c.level is not None:
        return ctx.level is not None and ctx.level in (c.in_ or ())
    if c.decision is not None:
        return ctx.decisions.get(c.decision) in (c.in_ or ())
    return False  # unreachable: the schema allows no other kind


def _within(n: int, low: int | None, high: int | None) -> bool:
    return (low is None or n >= low) and (high is None or n <= high)


class NoOutcome(ValueError):
    def __init__(self, decision: Decision) -> None:
        super().__init__(f"no rule of decision {decision.key} fits these answers")
        self.decision = decision


def decide(decision: Decision, ctx: _Context) -> str:
    for rule in decision.rules:
        if holds(rule.when, ctx):
            return rule.outcome
    if decision.default is None:
        raise NoOutcome(decision)
    return decision.default


def score(
    instrument: Instrument,
    answers: Answers,
    children: Sequence[Mapping[str, Any]] = (),
    *,
    final_level: str | None = None,
    adjusted: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Every score, level and decision the instrument defines, computed from the answers alone.

    Decisions that look at the level see the final level (after an override) when one is given. A
    per-child decision is made for each child from the household answers plus that child's own; the
    overall outcome is the most severe child's (the least safe child decides). `adjusted` holds approved
    downgrades: each decision keeps its computed `outcome` (e.g. the initial response priority) and shows
    the `final` one (the current priority); later rules see the final one.
    """
    indices: dict[str, dict[str, Any]] = {}
    for index in instrument.indices:
        total = index_scores(instrument, answers)[index.key]
        indices[index.key] = {"score": total, "level": level_for(index.thresholds, total)}
    scored = (
        highest(instrument.levels, [i["level"] for i in indices.values()])
        if instrument.scored_level == "highest_index"
        else None
    )
    level = final_level or scored
    decisions: dict[str, str] = {}
    decided: dict[str, Any] = {}
    signals: list[str] = []
    for decision in instrument.decisions:
        per_child: list[dict[str, Any]] = []
        if decision.per_child and children:
            for child in children:
                merged = {**answers, **(child.get("answers") or {})}
                outcome = decide(decision, _Context(instrument, merged, indices, level, decisions))
                per_child.append({"name": child.get("name"), "person_id": child.get("person_id"), "outcome": outcome})
            overall = max((c["outcome"] for c in per_child), key=decision.outcomes.index)
        else:
            overall = decide(decision, _Context(instrument, answers, indices, level, decisions))
        final = (adjusted or {}).get(decision.key, overall)
        decisions[decision.key] = final
        decided[decision.key] = {"outcome": overall, "final": final, "children": per_child}
        signals += [s for s in decision.signals.get(final, ()) if s not in signals]
    result: dict[str, Any] = {
        "indices": indices,
        "scored_level": scored,
        "final_level": level,
        "decisions": decided,
        "signals": signals,
    }
    if instrument.rating_style is not None:
        result.update(rating_summary(instrument, answers))
    return result


def rating_summary(instrument: Instrument, answers: Answers) -> dict[str, Any]:
    """Priority needs (need items rated in `priority_ratings`, most urgent first) and useful strengths
    (strength items rated in `strength_ratings`): what feeds the case plan. An item without a domain (an
    SDM A-D domain) can be either, by its rating."""
    order = RATING_CODES[instrument.rating_style] if instrument.rating_style else ()
    needs, strengths = [], []
    for item in instrument.items:
        rating = answers.get(item.code)
        if item.type != ItemType.rating or rating is None:
            continue
        entry = {"item": item.code, "text": item.text, "rating": rating}
        if item.domain in ("need", None) and rating in instrument.priority_ratings:
            needs.append(entry)
        if item.domain in ("strength", None) and rating in instrument.strength_ratings:
            strengths.append(entry)
    # letter_a_d: D is the most urgent; action_0_3: 3 is. Both are the last code of the scale.
    needs.sort(key=lambda e: -order.index(e["rating"]))
    return {"priority_needs": needs, "strengths": strengths}


def check_errors(instrument: Instrument, answers: Answers, results: Mapping[str, Any]) -> Errors:
    """The instrument's completion checks (e.g. unsafe ⇒ a protective-placement intervention is selected)."""
    ctx = _results_context(instrument, answers, results)
    return [
        {"field": c.field, "message": c.message}
        for c in instrument.checks
        if holds(c.when, ctx) and not holds(c.require, ctx)
    ]


def _results_context(instrument: Instrument, answers: Answers, results: Mapping[str, Any]) -> _Context:
    decisions = {k: v["final"] for k, v in results["decisions"].items()}
    return _Context(instrument, answers, results["indices"], results["final_level"], decisions)


# --- overrides ---------------------------------------------------------------------------------------------


def policy_override_level(instrument: Instrument, scored_level: str | None, codes: Sequence[str]) -> str:
    """A policy override forces the instrument's policy level (very high), whatever was scored."""
    known = {o.code for o in instrument.overrides.policy}
    if not known or scored_level is None:
        raise OverrideRefused("kind", "this instrument has no policy overrides")
    unknown = [c for c in codes if c not in known]
    if not codes or unknown:
        raise OverrideRefused("policy_reasons", f"name one or more policy overrides from {sorted(known)}")
    assert instrument.overrides.policy_level is not None  # the schema guarantees it when policy is set
    return instrument.overrides.policy_level


def discretionary_override_level(instrument: Instrument, scored_level: str | None, requested: str | None) -> str:
    """A discretionary override raises the scored level by exactly one step, never more, never down."""
    steps = instrument.overrides.discretionary_steps
    if not steps or scored_level is None:
        raise OverrideRefused("kind", "this instrument has no discretionary override")
    position = instrument.levels.index(scored_level)
    if position + steps >= len(instrument.levels):
        raise OverrideRefused("kind", f"the scored level {scored_level} is already the highest")
    target = instrument.levels[position + steps]
    if requested is not None and requested != target:
        raise OverrideRefused(
            "to_level", f"a discretionary override raises {scored_level} by exactly one level, to {target}"
        )
    return target


def downgrade_outcome(instrument: Instrument, current: str, requested: str | None) -> str:
    """A downgrade lowers a decision (e.g. the response priority) to a less urgent outcome."""
    if instrument.downgrade is None:
        raise OverrideRefused("kind", "this instrument has no downgrade")
    decision = next(d for d in instrument.decisions if d.key == instrument.downgrade.decision)
    if requested is None or requested not in decision.outcomes:
        raise OverrideRefused("to_level", f"choose one of {list(decision.outcomes)}")
    if decision.outcomes.index(requested) >= decision.outcomes.index(current):
        raise OverrideRefused("to_level", f"a downgrade must be less urgent than {current}")
    return requested


# --- due dates ---------------------------------------------------------------------------------------------


def add_working_days(start: date, days: int, holidays: Iterable[date] = ()) -> date:
    """The date `days` working days after `start`: weekends and holidays do not count."""
    off = set(holidays)
    current, left = start, days
    while left > 0:
        current += timedelta(days=1)
        if current.weekday() < 5 and current not in off:
            left -= 1
    return current


def due_at(rule: DueRule, anchor: datetime, holidays: Iterable[date] = ()) -> str:
    """When the rule's thing is due, as an ISO date (day rules) or ISO timestamp (hour rules)."""
    if rule.hours is not None:
        return (anchor + timedelta(hours=rule.hours)).isoformat()
    if rule.working_days is not None:
        return add_working_days(anchor.date(), rule.working_days, holidays).isoformat()
    return (anchor.date() + timedelta(days=rule.calendar_days or 0)).isoformat()


def due_dates(
    instrument: Instrument,
    anchors: Mapping[str, datetime],
    holidays: Iterable[date] = (),
    *,
    answers: Answers | None = None,
    results: Mapping[str, Any] | None = None,
) -> dict[str, dict[str, Any]]:
    """Each due rule that applies, with its due date. A rule whose anchor is not known yet is listed with
    `due: null` (a missing anchor shows rather than vanishing); of several rules with one key (e.g. 24 or
    72 hours by priority) the first that applies counts; a rule with `when` applies only once scored; a
    reassessment rule does not apply once a closing outcome is decided (`schedules_reassessment`)."""
    holidays = list(holidays)
    ctx = _results_context(instrument, answers or {}, results) if results is not None else None
    reassess = ctx is None or schedules_reassessment(instrument, ctx.decisions)
    found: dict[str, dict[str, Any]] = {}
    for rule in instrument.due:
        if rule.key in found or (rule.reassessment and not reassess):
            continue
        if rule.when is not None and (ctx is None or not holds(rule.when, ctx)):
            continue
        found[rule.key] = {
            "label": rule.label,
            "anchor": rule.anchor,
            "due": due_at(rule, anchors[rule.anchor], holidays) if rule.anchor in anchors else None,
        }
    return found


def schedules_reassessment(instrument: Instrument, decisions: Mapping[str, str]) -> bool:
    """False when a decision's final outcome closes the case (e.g. a "close" recommendation): a case that
    closes schedules no reassessment. `decisions` maps each decision to its final outcome."""
    return not any(decisions.get(d.key) in d.closing for d in instrument.decisions)


# --- SDM practice rules -----------------------------------------------------------------------------------


def response_priority_errors(instrument: Instrument, results: Mapping[str, Any], due: Mapping[str, Any]) -> Errors:
    """A screened-in report always has a response priority that is a response (not "none") and an initiation
    deadline computed from it by the instrument's due rules (so the anchor it counts from must be known).
    `results` as `score` gives them, `due` as `due_dates` gives it; nothing for a screened-out report."""
    rp = instrument.response_priority
    if rp is None:
        return []
    decisions = results.get("decisions", {})
    if decisions.get(rp.screening, {}).get("final") not in rp.screened_in:
        return []
    priority = decisions.get(rp.decision, {}).get("final")
    field = f"decisions.{rp.decision}"
    if priority is None or priority in rp.no_response:
        return [{"field": field, "message": f"a screened-in report needs a response priority, not {priority}"}]
    deadline = due.get(rp.deadline)
    if deadline is None:
        return [{"field": field, "message": f"the instrument gives the priority {priority} no {rp.deadline} deadline"}]
    if deadline.get("due") is None:
        return [
            {
                "field": f"anchors.{deadline['anchor']}",
                "message": f"a screened-in report's initiation deadline counts from {deadline['anchor']}: give it",
            }
        ]
    return []


def threats_present(instrument: Instrument, answers: Answers, children: Sequence[Mapping[str, Any]] = ()) -> list[str]:
    """The safety threats answered yes, for the household or for any child."""
    every = [answers, *((c.get("answers") or {}) for c in children)]
    return [
        i.code for i in instrument.items if i.section == THREATS_SECTION and any(a.get(i.code) is True for a in every)
    ]


def protective_intervention_errors(
    instrument: Instrument, answers: Answers, children: Sequence[Mapping[str, Any]] = ()
) -> Errors:
    """A protective intervention (an option flagged `protective_placement`, such as custody) needs the threat it
    answers: one of the threats it `controls` (any safety threat when it names none) is marked present. With no
    threat the decision would be "safe" beside a removal: only a supervisor's review lets that stand (the
    caller decides whether one was given)."""
    present = set(threats_present(instrument, answers, children))
    all_threats = [i.code for i in instrument.items if i.section == THREATS_SECTION]
    errors: Errors = []
    for item in instrument.items:
        chosen = set(_selected(item, answers.get(item.code)))
        unanswered = [
            o
            for o in item.options
            if o.code in chosen and PROTECTIVE_FLAG in o.flags and not present & set(o.controls or all_threats)
        ]
        if unanswered:
            names = ", ".join(o.code for o in unanswered)
            errors.append(
                {
                    "field": f"answers.{item.code}",
                    "message": f"{names}: a protective intervention needs the threat it answers; mark the threat, "
                    "or a supervisor reviews the decision",
                }
            )
    return errors
