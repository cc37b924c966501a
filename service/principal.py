"""Who is acting: the seam the authentication issue fills in.

Until tokens exist, the only principal is the local operator of the society named by
`KINTRACE_ACTING_SOCIETY`, and `serve` binds to 127.0.0.1 by default, so the write API is not
open to a network. Every repository call is scoped by `principal.society_id`; the tenant never
comes from the request body.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

LOCAL_OPERATOR = "local-operator"


@dataclass(frozen=True, slots=True)
class Principal:
    """The acting user or client, and the society it acts for."""

    subject: str
    society_id: uuid.UUID
    society_code: str

    @property
    def scope_key(self) -> str:
        """Identity used to scope per-caller state such as idempotency keys."""
        return self.subject
