"""The unit of work commits before the response: a failed commit is never a 2xx."""

from __future__ import annotations

from sqlalchemy import text

from tests.service.payloads import registration

FAIL_AT_COMMIT = """
CREATE FUNCTION kintrace_test_fail() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.registration_source = 'fail at commit' THEN
    RAISE EXCEPTION 'deferred check failed';
  END IF;
  RETURN NEW;
END $$;
CREATE CONSTRAINT TRIGGER kintrace_test_fail AFTER INSERT ON person
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION kintrace_test_fail();
"""


async def test_failed_commit_is_a_server_error_and_nothing_is_stored(committing_client, engine):
    async with engine.begin() as connection:
        for statement in FAIL_AT_COMMIT.split(";\nCREATE CONSTRAINT"):
            sql = (
                statement
                if statement.startswith("\nCREATE FUNCTION")
                else ("CREATE CONSTRAINT" + statement)
            )
            await connection.execute(text(sql))
    try:
        response = await committing_client.post(
            "/v1/registrations", json=registration(registration_source="fail at commit")
        )
        assert response.status_code >= 500
        assert response.headers["content-type"] == "application/problem+json"
        assert "deferred check failed" not in response.text
        listed = await committing_client.get("/v1/registrations")
        assert listed.json()["items"] == []
        ok = await committing_client.post("/v1/registrations", json=registration())
        assert ok.status_code == 201
    finally:
        async with engine.begin() as connection:
            await connection.execute(text("DROP TRIGGER kintrace_test_fail ON person"))
            await connection.execute(text("DROP FUNCTION kintrace_test_fail()"))
