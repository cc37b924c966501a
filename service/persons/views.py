"""Minimal views of persons (domain rules 8 and 10): which fields each role may see.

Whereabouts and contact details are the most guarded: the caseworkers who handle cases, their
supervisors and the data-protection officer (subject access) see them; reviewers compare
identities and need neither, partners receive only what a sharing grant allows. Deceased
registrations exist only for roles that may learn of a death. The README's field-visibility
matrix is generated from here (`uv run python -m service.persons.views`; a test keeps it equal).
"""

from __future__ import annotations

from collections.abc import Iterable

from schemas.enums import RegistrationKind, StaffRole
from schemas.persons import PersonPublic
from service.auth.scopes import ROLE_SCOPES, Scope
from service.persons.records import PersonRecord

# Fields shown only to holders of a scope; every other field of a person is shown to anyone
# who may read persons at all (`tracing:read`).
GUARDED_FIELDS: dict[str, Scope] = {
    "current_place": Scope.WHEREABOUTS_READ,
    "contact": Scope.WHEREABOUTS_READ,
    "notes": Scope.NOTES_READ,
}


def withheld_fields(scopes: Iterable[str]) -> frozenset[str]:
    """The person fields a holder of `scopes` may not see."""
    held = set(scopes)
    return frozenset(field for field, scope in GUARDED_FIELDS.items() if scope.value not in held)


def may_see_person(record: PersonRecord, scopes: Iterable[str]) -> bool:
    """Whether the person exists at all for a holder of `scopes`: a deceased registration only
    for those who may learn of a death, a person flagged sensitive only for those who may see
    persons at risk."""
    held = set(scopes)
    if record.registration_kind == RegistrationKind.DECEASED:
        if Scope.DECEASED_READ.value not in held:
            return False
    return not record.personal.sensitive or Scope.SENSITIVE_READ.value in held


def field_matrix() -> str:
    """The README's field-visibility matrix: person fields by role."""
    readers = [role for role in StaffRole if Scope.TRACING_READ in ROLE_SCOPES[role]]
    header = "| person fields | " + " | ".join(role.value.replace("_", " ") for role in readers)
    lines = [header + " |", "|---|" + "---|" * len(readers)]
    everyone = sorted(set(PersonPublic.model_fields) - set(GUARDED_FIELDS))
    lines.append("| " + ", ".join(f"`{f}`" for f in everyone) + " |" + " ✓ |" * len(readers))
    for field in sorted(GUARDED_FIELDS):
        marks = ["✓" if GUARDED_FIELDS[field] in ROLE_SCOPES[role] else "" for role in readers]
        lines.append(f"| `{field}` | " + " | ".join(marks) + " |")
    deceased = ["✓" if Scope.DECEASED_READ in ROLE_SCOPES[role] else "" for role in readers]
    lines.append("| deceased registrations (at all) | " + " | ".join(deceased) + " |")
    sensitive = ["✓" if Scope.SENSITIVE_READ in ROLE_SCOPES[role] else "" for role in readers]
    lines.append("| persons flagged sensitive (at all) | " + " | ".join(sensitive) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(field_matrix())
