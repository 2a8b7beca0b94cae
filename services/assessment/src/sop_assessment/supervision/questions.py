"""The solution-focused question bank: questions by type, audience and language.

Data, drafted by the engineering team from the published SOP and solution-focused practice literature
(Turnell & Edwards; de Shazer & Berg) in our own words, and awaiting review by a practice lead (Spanish:
a bilingual practice reviewer) — hence `reviewed=False`. Marshallese questions are not given: nobody has
written or reviewed them yet, so asking for `mh` returns none rather than invented ones.
"""

from __future__ import annotations

from dataclasses import dataclass

QUESTION_TYPES = ("scaling", "exception", "coping", "preferred_future", "relationship", "appreciative_inquiry")
AUDIENCES = ("caregiver", "child", "network", "worker")
REVIEWED = False


@dataclass(frozen=True)
class Question:
    key: str
    question_type: str
    audience: str
    text: dict[str, str]  # per language


QUESTIONS: tuple[Question, ...] = (
    Question(
        "scaling_safety_caregiver",
        "scaling",
        "caregiver",
        {
            "en": "On a scale from 0 to 10, where 10 means everyone knows the children are safe enough for us to "
            "close the case and 0 means the children cannot be safe with you, where would you put things today?",
            "es": "En una escala del 0 al 10, donde 10 quiere decir que todos saben que los niños están lo bastante "
            "seguros para cerrar el caso y 0 quiere decir que los niños no pueden estar seguros con usted, "
            "¿dónde pondría las cosas hoy?",
        },
    ),
    Question(
        "scaling_one_up_caregiver",
        "scaling",
        "caregiver",
        {
            "en": "What would it take for that number to go up by one?",
            "es": "¿Qué haría falta para que ese número suba uno?",
        },
    ),
    Question(
        "scaling_why_not_lower",
        "scaling",
        "caregiver",
        {
            "en": "What makes it that number and not a lower one?",
            "es": "¿Qué hace que sea ese número y no uno más bajo?",
        },
    ),
    Question(
        "scaling_child_path",
        "scaling",
        "child",
        {
            "en": "If this end of the path is where you feel really safe at home and that end is where you feel "
            "really scared, where would you stand today?",
            "es": "Si este lado del camino es donde te sientes muy seguro en casa y ese lado es donde te sientes "
            "con mucho miedo, ¿dónde te pararías hoy?",
        },
    ),
    Question(
        "exception_caregiver",
        "exception",
        "caregiver",
        {
            "en": "Tell me about a time when you could have had a drink or lost your temper, but you did something "
            "else. What did you do?",
            "es": "Cuénteme de una vez en que pudo haber tomado o perdido la paciencia, pero hizo otra cosa. "
            "¿Qué hizo?",
        },
    ),
    Question(
        "exception_network",
        "exception",
        "network",
        {
            "en": "When have you seen things go well in this family, even for a little while? What was different?",
            "es": "¿Cuándo ha visto que las cosas van bien en esta familia, aunque sea por un rato? ¿Qué era distinto?",
        },
    ),
    Question(
        "coping_caregiver",
        "coping",
        "caregiver",
        {
            "en": "With everything that has been going on, how have you managed to keep going?",
            "es": "Con todo lo que ha estado pasando, ¿cómo ha logrado seguir adelante?",
        },
    ),
    Question(
        "preferred_future_caregiver",
        "preferred_future",
        "caregiver",
        {
            "en": "Imagine the agency has closed your case. What would you be doing differently that tells everyone "
            "the children are safe?",
            "es": "Imagine que la agencia cerró su caso. ¿Qué estaría haciendo diferente que le muestra a todos que "
            "los niños están seguros?",
        },
    ),
    Question(
        "preferred_future_child",
        "preferred_future",
        "child",
        {
            "en": "If a magic wand made things at home just the way you want, what would be different?",
            "es": "Si una varita mágica hiciera que las cosas en casa fueran como tú quieres, ¿qué sería diferente?",
        },
    ),
    Question(
        "relationship_caregiver",
        "relationship",
        "caregiver",
        {
            "en": "What would your mother say she has noticed you doing to keep the children safe?",
            "es": "¿Qué diría su mamá que ha visto que usted hace para mantener seguros a los niños?",
        },
    ),
    Question(
        "relationship_network",
        "relationship",
        "network",
        {
            "en": "What would the children say they need from you to feel safe?",
            "es": "¿Qué dirían los niños que necesitan de usted para sentirse seguros?",
        },
    ),
    Question(
        "appreciative_worker_best",
        "appreciative_inquiry",
        "worker",
        {
            "en": "What are you most pleased with in your work with this family?",
            "es": "¿Qué es lo que más le satisface de su trabajo con esta familia?",
        },
    ),
    Question(
        "appreciative_worker_next",
        "appreciative_inquiry",
        "worker",
        {
            "en": "What did you do that made the biggest difference, and how could you do more of it?",
            "es": "¿Qué hizo que marcó la mayor diferencia, y cómo podría hacerlo más?",
        },
    ),
    Question(
        "scaling_worker_confidence",
        "scaling",
        "worker",
        {
            "en": "On a scale from 0 to 10, how confident are you that the danger statements say what the family "
            "and network need to hear?",
            "es": "En una escala del 0 al 10, ¿qué tan seguro está de que las declaraciones de peligro dicen lo que "
            "la familia y la red necesitan oír?",
        },
    ),
)


def questions(
    *, question_type: str | None = None, audience: str | None = None, language: str = "en"
) -> list[dict[str, object]]:
    return [
        {
            "key": q.key,
            "question_type": q.question_type,
            "audience": q.audience,
            "language": language,
            "text": q.text[language],
            "reviewed": REVIEWED,
        }
        for q in QUESTIONS
        if language in q.text
        and (question_type is None or q.question_type == question_type)
        and (audience is None or q.audience == audience)
    ]
