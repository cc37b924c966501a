"""Roles and scopes: the one table that says which role may do what.

Routes declare the scope they need; a principal holds the union of its roles' scopes. The
README's role matrix is generated from `ROLE_SCOPES` (a test keeps them equal).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from schemas.enums import StaffRole


class Scope(StrEnum):
    """An operation family a route belongs to."""

    TRACING_READ = "tracing:read"
    TRACING_WRITE = "tracing:write"
    TRACING_CLOSE = "tracing:close"
    AUDIT_READ = "audit:read"
    CANDIDATES_READ = "candidates:read"
    REVIEW = "review"
    OVERSIGHT = "oversight"
    DECEASED_READ = "deceased:read"
    WHEREABOUTS_READ = "person:whereabouts"
    NOTES_READ = "person:notes"
    SENSITIVE_READ = "person:sensitive"
    PROTECTION_APPROVE = "protection:approve"
    DATA_PROTECTION = "data-protection"
    SHARING_MANAGE = "sharing:manage"
    WEBHOOKS_MANAGE = "webhooks:manage"


SCOPE_DESCRIPTIONS: dict[Scope, str] = {
    Scope.TRACING_READ: "Read tracing requests, persons, names and relationships.",
    Scope.TRACING_WRITE: "Record and change tracing requests, persons and registrations.",
    Scope.TRACING_CLOSE: "Close tracing requests and persons.",
    Scope.AUDIT_READ: "Read the society's audit trail.",
    Scope.CANDIDATES_READ: "Read candidate links and their feed (including cross-society links "
    "on records the society shares or is shared).",
    Scope.REVIEW: "Decide on candidate links.",
    Scope.OVERSIGHT: "See who searched unusually much (search flags).",
    Scope.DECEASED_READ: "See deceased registrations and learn that a located person has died.",
    Scope.WHEREABOUTS_READ: "See a person's current whereabouts and contact details.",
    Scope.NOTES_READ: "See a person's free-text notes.",
    Scope.SENSITIVE_READ: "See persons flagged sensitive (protection risk, detention).",
    Scope.PROTECTION_APPROVE: "Approve lifting a person's sensitive flag (two supervisors).",
    Scope.DATA_PROTECTION: "Export everything held about a person; erase a person; read "
    "and export the transfers ledger.",
    Scope.SHARING_MANAGE: "Grant another society access to records, and revoke grants.",
    Scope.WEBHOOKS_MANAGE: "Register endpoints for signed notifications and follow deliveries.",
}

ROLE_SCOPES: dict[StaffRole, frozenset[Scope]] = {
    StaffRole.CASEWORKER: frozenset(
        {
            Scope.TRACING_READ,
            Scope.TRACING_WRITE,
            Scope.TRACING_CLOSE,
            Scope.DECEASED_READ,
            Scope.WHEREABOUTS_READ,
            Scope.NOTES_READ,
            Scope.SENSITIVE_READ,
        }
    ),
    StaffRole.REVIEWER: frozenset(
        {
            Scope.TRACING_READ,
            Scope.CANDIDATES_READ,
            Scope.REVIEW,
            Scope.DECEASED_READ,
            Scope.NOTES_READ,
            Scope.SENSITIVE_READ,
        }
    ),
    StaffRole.SUPERVISOR: frozenset(
        {
            Scope.TRACING_READ,
            Scope.TRACING_WRITE,
            Scope.TRACING_CLOSE,
            Scope.CANDIDATES_READ,
            Scope.REVIEW,
            Scope.OVERSIGHT,
            Scope.DECEASED_READ,
            Scope.WHEREABOUTS_READ,
            Scope.NOTES_READ,
            Scope.SENSITIVE_READ,
            Scope.PROTECTION_APPROVE,
            Scope.SHARING_MANAGE,
            Scope.WEBHOOKS_MANAGE,
        }
    ),
    StaffRole.AUDITOR: frozenset({Scope.AUDIT_READ}),
    StaffRole.DATA_PROTECTION_OFFICER: frozenset(
        {
            Scope.TRACING_READ,
            Scope.AUDIT_READ,
            Scope.OVERSIGHT,
            Scope.DECEASED_READ,
            Scope.WHEREABOUTS_READ,
            Scope.NOTES_READ,
            Scope.SENSITIVE_READ,
            Scope.DATA_PROTECTION,
        }
    ),
    StaffRole.ADMIN: frozenset(),
    StaffRole.PARTNER: frozenset(
        {Scope.TRACING_READ, Scope.TRACING_WRITE, Scope.CANDIDATES_READ, Scope.WEBHOOKS_MANAGE}
    ),
}

# Roles whose accounts must have a second factor (TOTP).
SECOND_FACTOR_ROLES = frozenset({StaffRole.ADMIN, StaffRole.SUPERVISOR})


def known_roles(roles: Iterable[str]) -> frozenset[str]:
    """The recognised roles among `roles` (an external issuer may send others; they grant
    nothing)."""
    valid = {role.value for role in StaffRole}
    return frozenset(role for role in roles if role in valid)


def scopes_of(roles: Iterable[str]) -> frozenset[str]:
    """Everything the holder of `roles` may do."""
    return frozenset(
        scope.value for role in known_roles(roles) for scope in ROLE_SCOPES[StaffRole(role)]
    )
