"""Wire contracts of consent records, their withdrawal, and a request not to be traced."""

from __future__ import annotations

import datetime
import uuid
from typing import Self

from pydantic import Field, model_validator

from schemas.base import WireModel
from schemas.enums import ConsentGiver, ConsentMethod, ConsentScope, DisclosableField


class ConsentCreate(WireModel):
    """A consent as it was obtained: what it covers, who gave it, how and when.

    A consent to `disclosure` names the enquirer it is for and the whereabouts and contact
    fields that enquirer may receive. Consent obtained as a condition of receiving aid is not
    valid and is refused.
    """

    scope: ConsentScope
    given_by: ConsentGiver = ConsentGiver.PERSON
    giver_name: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The guardian's name; required when `given_by` is `guardian`.",
    )
    decision_reference: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Reference of the recorded best-interest decision; required when "
        "`given_by` is `best_interest_decision`.",
    )
    obtained_how: ConsentMethod
    obtained_on: datetime.date
    enquirer_id: uuid.UUID | None = Field(
        default=None, description="For `disclosure`: the enquirer (a person) it is given to."
    )
    fields: list[DisclosableField] = Field(
        default_factory=list,
        max_length=len(DisclosableField),
        description="For `disclosure`: the fields the enquirer may receive.",
    )
    note: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _valid_consent(self) -> Self:
        if self.obtained_how is ConsentMethod.CONDITION_OF_AID:
            raise ValueError("consent obtained as a condition of receiving aid is not valid")
        if self.given_by is ConsentGiver.GUARDIAN and not self.giver_name:
            raise ValueError("a guardian's consent needs `giver_name`")
        if self.given_by is ConsentGiver.BEST_INTEREST_DECISION and not self.decision_reference:
            raise ValueError("a best-interest decision needs `decision_reference`")
        if self.scope is ConsentScope.DISCLOSURE:
            if self.enquirer_id is None or not self.fields:
                raise ValueError("a consent to disclosure needs `enquirer_id` and `fields`")
        elif self.enquirer_id is not None or self.fields:
            raise ValueError("`enquirer_id` and `fields` are for a consent to disclosure")
        if len(set(self.fields)) != len(self.fields):
            raise ValueError("`fields` lists a field twice")
        return self


class ConsentWithdrawal(WireModel):
    """The withdrawal of a consent, as the person (or guardian) expressed it."""

    reason: str | None = Field(default=None, max_length=2000)


class ConsentPublic(WireModel):
    """A recorded consent."""

    id: uuid.UUID
    person_id: uuid.UUID
    scope: ConsentScope
    given_by: ConsentGiver
    giver_name: str | None
    decision_reference: str | None
    obtained_how: ConsentMethod
    obtained_on: datetime.date
    enquirer_id: uuid.UUID | None
    fields: list[DisclosableField]
    note: str | None
    recorded_by: str
    recorded_at: datetime.datetime
    withdrawn_at: datetime.datetime | None
    withdrawn_by: str | None
    withdrawal_reason: str | None


class ConsentList(WireModel):
    """A person's consents, oldest first (a person has few; the list is not paged)."""

    items: list[ConsentPublic]
