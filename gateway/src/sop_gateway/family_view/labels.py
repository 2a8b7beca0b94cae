"""The family view's own words: headings, notes and column names, per language.

Data, reviewed like the glossary: English is kept at or below a grade 8 reading level (a test checks it);
Spanish was written by the engineering team in plain, formal ("usted") Spanish and awaits review by a
bilingual practice reviewer who knows Arkansas families. A language without labels (Marshallese, `mh`,
first among them) is shown with the English labels and a visible note that a translation is not available
yet: nothing here is machine-translated.

`{placeholders}` are filled in by the page; every language has the same keys and the same placeholders.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from babel import Locale

from sop_gateway.graphql.labels import CODE_WORDS
from sop_gateway.graphql.labels import LABELS as CASE_VIEW_LABELS
from sop_shared.locale_words import (
    date_words,
    duration_words,
    in_language_of,
    language_name,
    list_words,
    number_words,
)
from sop_shared.plain_language import primary_language

FALLBACK_LANGUAGE = "en"

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "page_title": "Keeping {children} safe",
        "page_title_no_children": "Keeping the children safe",
        "intro": "This page is for you and the people who help your family. It shows what we are worried "
        "about, what is going well, and what needs to happen next. Please ask us about any part "
        "that is not clear.",
        "children": "Children",
        "caregivers": "Parents and caregivers",
        "worries_intro": "These are the worries about what could happen to the children if nothing changes.",
        "worry_n": "Worry {n}",
        "who_agrees": "Who agrees",
        "who_disagrees": "Who does not agree",
        "no_worries": "No worries are written down yet.",
        "harm": "What happened before",
        "complicating_factors": "Things that make it harder",
        "strengths": "Good things about your family",
        "existing_safety": "What people already did to keep the children safe",
        "who": "Who",
        "when": "When",
        "how_often": "How often",
        "safety_goals": "Safety goals",
        "goal_for": "For worry {n}",
        "for_how_long": "For how long",
        "owner_family": "Your family",
        "owner_agency": "The agency",
        "owner_joint": "Your family and the agency, together",
        "next_steps": "Next steps",
        "by_when": "By when",
        "done": "Done",
        "safety_plan": "Your safety plan",
        "plan_intro": "These are the rules everyone agreed to follow to keep the children safe.",
        "rule": "What will happen",
        "responsible": "Who does it",
        "monitors": "Who helps and checks",
        "how_verified": "How we will know",
        "plan_started": "This plan started on {date}.",
        "plan_review": "We will look at it again by {date}.",
        "no_plan": "There is no safety plan yet.",
        "network": "People who help",
        "scale": "How safe are the children? From 0 to 10",
        "scale_explain": "0 means the children cannot be safe with their parents. 10 means there is enough "
        "safety to close the case.",
        "scale_overall": "All the worries together",
        "scale_chart_title": "Safety scale for {what}",
        "no_ratings": "Nobody has given a number yet.",
        "glossary": "Words we use",
        "child_said": "What {name} told us, in {name}'s own words",
        "in_language": "In {language}",
        "labels_not_translated": "This page is not yet available in {language}. It is shown in English. "
        "Please ask for an interpreter.",
        "section_unavailable": "We cannot show this part right now. Please ask your worker.",
        "nothing_yet": "Nothing is written here yet.",
        "triggers": "Warning signs to watch for",
        "trigger_plan": "How the plan avoids things that bring back bad memories",
        "if_broken": "If a rule is not kept",
        "who_is_called": "Who is called",
        "what_happens": "What happens",
        "backup_plan": "Backup plan",
        "commitments": "Has agreed to",
        "helps_as": "Helps as",
        "role_monitor": "checks that the plan is kept",
        "role_safety_person": "is a safe adult the children can go to",
        "role_supervises_contact": "stays with the children during visits",
        "role_respite": "cares for the children to give the family a break",
        "role_transport": "gives rides",
        "role_mentor": "gives advice and support",
        "role_emergency_contact": "can be called in an emergency",
        "meaning_missing": "The meaning is not written in {language} yet.",
        "printed": "Printed on {date}. Case {case}.",
        "sign_offs": "Who signed the plan",
        "signed_on": "{name} signed it on {date}.",
        "refused_on": "{name} chose not to sign it on {date}.",
        "explained_by": "{name} went over the plan with {signer} {mode}, in {language}.",
        "interpreter_is": "{name} is {qualification}.",
        "qualification_certified_court_interpreter": "a court interpreter who passed the state test",
        "qualification_certified_interpreter": "an interpreter who passed an official test",
        "qualification_qualified_interpreter": "a trained interpreter",
        "qualification_staff_bilingual": "agency staff who speaks both languages",
        "qualification_telephone_service": "an interpreter from a phone service",
        "mode_in_person": "in person",
        "mode_phone": "by phone",
        "mode_video": "by video call",
    },
    "es": {
        "page_title": "Para que {children} estén seguros",
        "page_title_no_children": "Para que los niños estén seguros",
        "intro": "Esta página es para usted y para las personas que ayudan a su familia. Muestra lo que nos "
        "preocupa, lo que va bien y lo que tiene que pasar ahora. Si algo no está claro, "
        "pregúntenos.",
        "children": "Niños",
        "caregivers": "Padres y cuidadores",
        "worries_intro": "Estas son las preocupaciones sobre lo que les podría pasar a los niños si nada cambia.",
        "worry_n": "Preocupación {n}",
        "who_agrees": "Quién está de acuerdo",
        "who_disagrees": "Quién no está de acuerdo",
        "no_worries": "Todavía no hay preocupaciones escritas.",
        "harm": "Lo que pasó antes",
        "complicating_factors": "Cosas que lo hacen más difícil",
        "strengths": "Cosas buenas de su familia",
        "existing_safety": "Lo que la gente ya hizo para proteger a los niños",
        "who": "Quién",
        "when": "Cuándo",
        "how_often": "Cada cuánto",
        "safety_goals": "Metas de seguridad",
        "goal_for": "Para la preocupación {n}",
        "for_how_long": "Por cuánto tiempo",
        "owner_family": "Su familia",
        "owner_agency": "La agencia",
        "owner_joint": "Su familia y la agencia, juntos",
        "next_steps": "Próximos pasos",
        "by_when": "Para cuándo",
        "done": "Hecho",
        "safety_plan": "Su plan de seguridad",
        "plan_intro": "Estas son las reglas que todos acordaron seguir para que los niños estén seguros.",
        "rule": "Lo que va a pasar",
        "responsible": "Quién lo hace",
        "monitors": "Quién ayuda y revisa",
        "how_verified": "Cómo lo vamos a saber",
        "plan_started": "Este plan empezó el {date}.",
        "plan_review": "Lo vamos a revisar otra vez antes del {date}.",
        "no_plan": "Todavía no hay un plan de seguridad.",
        "network": "Personas que ayudan",
        "scale": "¿Qué tan seguros están los niños? Del 0 al 10",
        "scale_explain": "0 quiere decir que los niños no pueden estar seguros con sus padres. 10 quiere decir "
        "que hay suficiente seguridad para cerrar el caso.",
        "scale_overall": "Todas las preocupaciones juntas",
        "scale_chart_title": "Escala de seguridad: {what}",
        "no_ratings": "Nadie ha dado un número todavía.",
        "glossary": "Palabras que usamos",
        "child_said": "Lo que {name} nos dijo, con sus propias palabras",
        "in_language": "En {language}",
        "labels_not_translated": "This page is not yet available in {language}. It is shown in English. "
        "Please ask for an interpreter.",
        "section_unavailable": "No podemos mostrar esta parte ahora. Por favor, pregúntele a su trabajador "
        "o trabajadora.",
        "nothing_yet": "Todavía no hay nada escrito aquí.",
        "triggers": "Señales de alerta",
        "trigger_plan": "Cómo el plan evita lo que trae malos recuerdos",
        "if_broken": "Si no se cumple una regla",
        "who_is_called": "A quién se llama",
        "what_happens": "Qué pasa",
        "backup_plan": "Plan de respaldo",
        "commitments": "Se comprometió a",
        "helps_as": "Ayuda como",
        "role_monitor": "revisa que se cumpla el plan",
        "role_safety_person": "es un adulto de confianza al que los niños pueden acudir",
        "role_supervises_contact": "se queda con los niños durante las visitas",
        "role_respite": "cuida a los niños para que la familia descanse",
        "role_transport": "lleva a la familia en carro",
        "role_mentor": "da consejos y apoyo",
        "role_emergency_contact": "se le puede llamar en una emergencia",
        "meaning_missing": "Todavía no está escrito qué quiere decir en {language}.",
        "printed": "Impreso el {date}. Caso {case}.",
        "sign_offs": "Quién firmó el plan",
        "signed_on": "{name} lo firmó el {date}.",
        "refused_on": "{name} decidió no firmarlo el {date}.",
        "explained_by": "{name} le explicó el plan a {signer} {mode}, en {language}.",
        "interpreter_is": "{name} es {qualification}.",
        "qualification_certified_court_interpreter": "intérprete judicial con certificación del estado",
        "qualification_certified_interpreter": "intérprete con certificación oficial",
        "qualification_qualified_interpreter": "intérprete con formación",
        "qualification_staff_bilingual": "personal de la agencia que habla los dos idiomas",
        "qualification_telephone_service": "intérprete de un servicio por teléfono",
        "mode_in_person": "en persona",
        "mode_phone": "por teléfono",
        "mode_video": "por videollamada",
    },
}

# The three questions are the case view's own headings: one catalog (sop_gateway.graphql.labels) for both.
for _language, _words in LABELS.items():
    _words.update(
        q_worried=CASE_VIEW_LABELS[_language]["worries"],
        q_working_well=CASE_VIEW_LABELS[_language]["working_well"],
        q_needs_to_happen=CASE_VIEW_LABELS[_language]["needs_to_happen"],
        child_voice=CASE_VIEW_LABELS[_language]["child_voice"],
    )
    _words.update(CODE_WORDS[_language])  # the services' codes (a plan's end reason, …) in the same words


@dataclass(frozen=True)
class PageWords:
    """The labels a page is written with: in the reader's language, or English with a note saying so."""

    language: str  # the language the labels are in
    requested: str  # the language the reader asked for
    labels: dict[str, str]

    @property
    def translated(self) -> bool:
        return self.language == primary_language(self.requested)

    def __getitem__(self, key: str) -> str:
        return self.labels[key]

    def say(self, key: str, **values: object) -> str:
        return self.labels[key].format(**values)

    def language_name(self, code: str) -> str:
        """A language as the page's readers say it (Babel's names: "Spanish", "inglés", "marshalés")."""
        return language_name(code, self.locale)

    def other_language(self, language: str | None) -> str | None:
        """`language`'s primary subtag when it is not the page's language (it needs an HTML `lang`), else None."""
        if not language:
            return None
        primary = primary_language(language)
        return None if primary == self.language else primary

    @property
    def locale(self) -> Locale:
        """Dates, durations, numbers and lists are written by Babel in the labels' language (the reader's
        region when the labels are the reader's language: `es-US`)."""
        return in_language_of(self.requested, self.language)

    def date(self, value: dt.date | dt.datetime | str, *, length: str = "long") -> str:
        """`value` is a date/datetime or an ISO string; anything else is shown as it is."""
        return date_words(value, self.locale, length=length)

    def duration(self, value: str | None) -> str | None:
        """An ISO-8601 duration (`P3M`) as "3 months" / "3 meses"; None when it is not one."""
        return duration_words(value, self.locale) if value else None

    def number(self, value: int | float) -> str:
        return number_words(value, self.locale)

    def join(self, names: list[str]) -> str:
        """ "Sofia and Mateo", "Ana, Luis y Sofia"."""
        return list_words(names, self.locale)


def page_words(language: str) -> PageWords:
    primary = primary_language(language)
    chosen = primary if primary in LABELS else FALLBACK_LANGUAGE
    return PageWords(language=chosen, requested=language, labels=LABELS[chosen])
