"""The glossary: each professional term a family meets in SOP and SDM, with its plain meaning per language.

Data, reviewed like the word lists in `sop_shared.plain_language`: a change is a practice decision,
reviewed by a practice lead (and, for Spanish, a bilingual reviewer who knows Arkansas families).
Review status: drafted by the engineering team from DOMAIN.md; awaiting that review (`reviewed=False`).

Marshallese (`mh`): nobody on the team reads Marshallese and no reviewed source was available, so no
meanings are given. Every term is listed for `mh` with `meaning: null` and `status: "missing"`, so the
gap is visible and can be filled by a qualified translator — never by machine translation.
"""

from __future__ import annotations

from dataclasses import dataclass

GLOSSARY_LANGUAGES = ("en", "es", "mh")
REVIEWED = False


@dataclass(frozen=True)
class GlossaryTerm:
    key: str
    term: dict[str, str]  # the term as people say it, per language
    meaning: dict[str, str]  # its plain meaning, per language


TERMS: tuple[GlossaryTerm, ...] = (
    GlossaryTerm(
        "harm_statement",
        {"en": "harm statement", "es": "declaración de daño"},
        {
            "en": "A short description of what happened to a child in the past, who did or did not do "
            "what, and how it hurt the child.",
            "es": "Una descripción corta de lo que le pasó a un niño en el pasado, quién hizo o no hizo "
            "qué, y cómo le afectó al niño.",
        },
    ),
    GlossaryTerm(
        "danger_statement",
        {"en": "danger statement", "es": "declaración de peligro"},
        {
            "en": "What people are worried could happen to a child in the future if nothing changes.",
            "es": "Lo que a la gente le preocupa que le pueda pasar a un niño en el futuro si nada cambia.",
        },
    ),
    GlossaryTerm(
        "safety_goal",
        {"en": "safety goal", "es": "meta de seguridad"},
        {
            "en": "What the parents or caregivers will be doing so that the children are safe, and for how "
            "long everyone needs to see it.",
            "es": "Lo que los padres o cuidadores van a hacer para que los niños estén seguros, y por "
            "cuánto tiempo todos necesitan verlo.",
        },
    ),
    GlossaryTerm(
        "safety_scale",
        {"en": "safety scale", "es": "escala de seguridad"},
        {
            "en": "A number from 0 to 10. 0 means the children cannot safely be with their caregivers; 10 "
            "means there is enough safety to close the case.",
            "es": "Un número del 0 al 10. 0 quiere decir que los niños no pueden estar seguros con sus "
            "cuidadores; 10 quiere decir que hay suficiente seguridad para cerrar el caso.",
        },
    ),
    GlossaryTerm(
        "safety_plan",
        {"en": "safety plan", "es": "plan de seguridad"},
        {
            "en": "The rules the family and their helpers agree to follow every day to keep the children "
            "safe, and who checks that they happen.",
            "es": "Las reglas que la familia y las personas que la apoyan acuerdan seguir cada día para "
            "mantener seguros a los niños, y quién revisa que se cumplan.",
        },
    ),
    GlossaryTerm(
        "safety_network",
        {"en": "safety network", "es": "red de seguridad"},
        {
            "en": "Family, friends and neighbours who know about the worries and help keep the children safe.",
            "es": "Familiares, amigos y vecinos que saben de las preocupaciones y ayudan a mantener "
            "seguros a los niños.",
        },
    ),
    GlossaryTerm(
        "complicating_factors",
        {"en": "complicating factors", "es": "factores que complican"},
        {
            "en": "Things that make the situation harder, but are not harm by themselves.",
            "es": "Cosas que hacen la situación más difícil, pero que no son daño por sí mismas.",
        },
    ),
    GlossaryTerm(
        "existing_strengths",
        {"en": "strengths", "es": "fortalezas"},
        {
            "en": "Good things about the family and the people around them.",
            "es": "Cosas buenas de la familia y de las personas que la rodean.",
        },
    ),
    GlossaryTerm(
        "existing_safety",
        {"en": "existing safety", "es": "seguridad que ya existe"},
        {
            "en": "Things someone already did to keep the children safe when the danger was there: who, "
            "when and how often.",
            "es": "Cosas que alguien ya hizo para proteger a los niños cuando había peligro: quién, "
            "cuándo y cada cuánto.",
        },
    ),
    GlossaryTerm(
        "gray_areas",
        {"en": "gray areas", "es": "zonas grises"},
        {
            "en": "Things we do not know yet, or that people do not agree about.",
            "es": "Cosas que todavía no sabemos, o en las que la gente no está de acuerdo.",
        },
    ),
    GlossaryTerm(
        "next_steps",
        {"en": "next steps", "es": "próximos pasos"},
        {
            "en": "What will happen next, who will do it, and by when.",
            "es": "Lo que va a pasar ahora, quién lo va a hacer y para cuándo.",
        },
    ),
    GlossaryTerm(
        "safety_assessment",
        {"en": "safety assessment", "es": "evaluación de seguridad"},
        {
            "en": "A checklist the worker fills in to decide whether the children are safe right now.",
            "es": "Una lista que llena el trabajador o la trabajadora para decidir si los niños están "
            "seguros ahora mismo.",
        },
    ),
    GlossaryTerm(
        "risk_assessment",
        {"en": "risk assessment", "es": "evaluación de riesgo"},
        {
            "en": "A checklist that estimates how likely it is that the family will need the agency "
            "again in the future.",
            "es": "Una lista que calcula qué tan probable es que la familia vuelva a necesitar a la "
            "agencia en el futuro.",
        },
    ),
    GlossaryTerm(
        "sdm",
        {"en": "SDM (Structured Decision Making)", "es": "SDM (toma de decisiones estructurada)"},
        {
            "en": "The set of checklists the agency uses so that workers make the same kind of decision "
            "in the same kind of situation.",
            "es": "El grupo de listas que usa la agencia para que los trabajadores tomen el mismo tipo "
            "de decisión en el mismo tipo de situación.",
        },
    ),
    GlossaryTerm(
        "supervisor_approval",
        {"en": "supervisor approval", "es": "aprobación del supervisor"},
        {
            "en": "The worker's supervisor checks a decision and says yes, or asks for changes.",
            "es": "El supervisor o la supervisora del trabajador revisa una decisión y dice que sí, o pide cambios.",
        },
    ),
    GlossaryTerm(
        "dcfs",
        {"en": "DCFS", "es": "DCFS"},
        {
            "en": "The Division of Children and Family Services: the state's child welfare agency.",
            "es": "La División de Servicios para Niños y Familias: la agencia de bienestar infantil del estado.",
        },
    ),
)


def glossary(language: str) -> list[dict[str, object]]:
    """The terms in `language` (a primary language: en, es, mh); a term without a meaning is `missing`."""
    entries: list[dict[str, object]] = []
    for term in TERMS:
        meaning = term.meaning.get(language)
        entries.append(
            {
                "key": term.key,
                "term": term.term.get(language, term.term["en"]),
                "english_term": term.term["en"],
                "meaning": meaning,
                "status": ("reviewed" if REVIEWED else "draft") if meaning else "missing",
            }
        )
    return entries
