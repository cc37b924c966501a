"""Which keys the process remembers as too common, for whom, and for how long."""

from __future__ import annotations

import uuid

import pytest

from service.candidates.keys import CommonKeys

NORTH, SOUTH = uuid.UUID(int=1), uuid.UUID(int=2)
SCOPE = (NORTH, NORTH, ("registration",), 1000)


@pytest.mark.parametrize(
    ("asked", "at", "known"),
    [
        (SCOPE, 10.0, {b"year", b"name"}),
        (SCOPE, 109.9, {b"year", b"name"}),
        (SCOPE, 110.0, set()),  # expired: read again
        ((SOUTH, SOUTH, ("registration",), 1000), 10.0, set()),  # another society's keys
        ((SOUTH, NORTH, ("registration",), 1000), 10.0, set()),  # read by a recipient
        ((NORTH, NORTH, ("registration", "sought_person"), 1000), 10.0, set()),  # other roles
        ((NORTH, NORTH, ("registration",), 5000), 10.0, set()),  # another cap
    ],
)
def test_common_keys_are_known_in_their_scope_until_they_expire(asked, at, known):
    common = CommonKeys(ttl=100.0)
    common.remember(SCOPE, [b"year", b"name"], now=10.0)
    assert common.known(asked, [b"year", b"name", b"rare"], now=at) == known


def test_remembering_a_key_again_extends_it_and_the_oldest_are_forgotten_first():
    common = CommonKeys(ttl=100.0, limit=2)
    common.remember(SCOPE, [b"a", b"b"], now=0.0)
    common.remember(SCOPE, [b"a"], now=50.0)
    common.remember(SCOPE, [b"c"], now=60.0)
    assert common.known(SCOPE, [b"a", b"b", b"c"], now=90.0) == {b"a", b"c"}
