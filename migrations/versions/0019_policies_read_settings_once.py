"""row-level security policies read the session's society and sharing flag once per statement

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-22 04:30:00

Every policy compared each row with `kintrace_current_society()` (and the shared-read policies
tested `current_setting('kintrace.shared_read')`), which PostgreSQL evaluated again for each
row: a setting looked up and cast to uuid per row. A candidate lookup reads tens of thousands
of keys, and on 449,000 keys read under row security that evaluation tripled the scan's time
(about 270 ms against 85 ms for the owner, who bypasses the policies). Written as a scalar
subquery, `(SELECT kintrace_current_society())`, the value is computed once per statement (an
InitPlan) and compared as a parameter (about 90 ms). The expressions are otherwise unchanged:
each policy admits exactly the rows it admitted before, since the settings cannot change while
a statement runs.

The rewrite applies to every policy of the schema at the time of the upgrade, so that none is
forgotten; policies created by later revisions should be written in the subquery form.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from alembic import op
from sqlalchemy import text

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SETTINGS = (
    "kintrace_current_society()",
    "current_setting('kintrace.shared_read'::text, true)",
)
# How PostgreSQL writes a scalar subquery of one of the settings back (pg_policies).
_READ_ONCE = re.compile(r"\( SELECT (kintrace_current_society\(\)|current_setting\([^)]*\)) AS \w+\)")


def _once(expression: str) -> str:
    """Each setting read in a scalar subquery (evaluated once per statement)."""
    for setting in _SETTINGS:
        expression = expression.replace(setting, f"(SELECT {setting})")
    return expression


def _per_row(expression: str) -> str:
    """The subqueries of `_once`, as PostgreSQL writes them back, made plain calls again."""
    return _READ_ONCE.sub(lambda match: match.group(1), expression)


def _rewrite(change: Callable[[str], str]) -> None:
    policies = op.get_bind().execute(
        text(
            "SELECT tablename, policyname, qual, with_check FROM pg_policies "
            "WHERE schemaname = current_schema() ORDER BY tablename, policyname"
        )
    )
    for table, name, using, check in policies.all():
        clauses = []
        if using is not None:
            clauses.append(f"USING ({change(using)})")
        if check is not None:
            clauses.append(f"WITH CHECK ({change(check)})")
        op.execute(f'ALTER POLICY "{name}" ON "{table}" {" ".join(clauses)}')


def upgrade() -> None:
    _rewrite(_once)


def downgrade() -> None:
    _rewrite(_per_row)
