"""Who is acting, for which society, and why: built only from a verified token.

Every repository call is scoped by `principal.society_id` (and, beneath it, by row-level
security keyed on the same id); the tenant never comes from the request.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from schemas.enums import Purpose


class PrincipalKind(StrEnum):
    """How the caller authenticated."""

    USER = "user"
    CLIENT = "client"
    EXTERNAL = "external"


@dataclass(frozen=True, slots=True)
class Principal:
    """The acting user or partner client, its society and what it may do."""

    subject: str
    kind: PrincipalKind
    society_id: uuid.UUID
    society_code: str
    roles: frozenset[str]
    scopes: frozenset[str]

    @property
    def scope_key(self) -> str:
        """Identity used to scope per-caller state such as idempotency keys."""
        return self.subject


@dataclass(frozen=True, slots=True)
class Access:
    """One request's access to personal data: who, why, and the request id for the audit."""

    principal: Principal
    purpose: Purpose
    request_id: str | None
