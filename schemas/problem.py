"""RFC 9457 problem details, the one error shape of the API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

PROBLEM_TYPE_PREFIX = "urn:kintrace:problem:"


class InvalidParam(BaseModel):
    """One offending field of a request: where it is and what is wrong with it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Dotted path of the field, e.g. `persons.0.names.1.kind`.")
    location: str = Field(description="Where the field was sent: body, query, path or header.")
    reason: str = Field(description="Why the value was refused.")


class Problem(BaseModel):
    """An error response (`application/problem+json`, RFC 9457).

    `type` is a stable URN (`urn:kintrace:problem:<slug>`) that clients may switch on;
    `title` is its short human summary and `detail` explains this occurrence.
    """

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=["urn:kintrace:problem:not-found"])
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    request_id: str | None = Field(
        default=None, description="The request id, also sent in the `X-Request-ID` header."
    )
    invalid_params: list[InvalidParam] | None = Field(
        default=None, alias="invalid-params", description="Present on validation errors."
    )
