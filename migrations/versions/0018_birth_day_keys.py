"""blocking keys of a fourth kind: the full birth date (`b`), which alone seeds candidates

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-21 23:20:00

Persons stored before this revision have no `b` keys until they are written again or
`kintrace reindex` recomputes their keys.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint(op.f("ck_person_key_kind"), "person_key", type_="check")
    op.create_check_constraint(op.f("ck_person_key_kind"), "person_key", "kind IN ('n', 'f', 'y', 'b')")


def downgrade() -> None:
    op.execute("DELETE FROM person_key WHERE kind = 'b'")
    op.drop_constraint(op.f("ck_person_key_kind"), "person_key", type_="check")
    op.create_check_constraint(op.f("ck_person_key_kind"), "person_key", "kind IN ('n', 'f', 'y')")
