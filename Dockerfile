# Kintrace API against an external PostgreSQL (DATABASE_URL is required in a container: the
# embedded server is meant for a developer's machine).
#
#   docker build -t kintrace .
#   docker run -e DATABASE_URL=postgresql://kintrace:...@db:5432/kintrace \
#              -e KINTRACE_HOST=0.0.0.0 -p 8000:8000 kintrace
#
# Until authentication lands, the API binds to 127.0.0.1 unless KINTRACE_HOST says otherwise:
# publishing an unauthenticated write API is an explicit choice.
FROM python:3.11-slim AS build
RUN pip install --no-cache-dir uv==0.13.8
WORKDIR /app
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_NO_PROGRESS=1
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --locked --no-dev --no-install-project
COPY service ./service
COPY matching ./matching
COPY schemas ./schemas
COPY migrations ./migrations
RUN uv sync --locked --no-dev

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /app kintrace
WORKDIR /app
COPY --from=build --chown=kintrace:kintrace /app /app
ENV PATH="/app/.venv/bin:$PATH" PYTHONUNBUFFERED=1 KINTRACE_HOST=127.0.0.1
USER kintrace
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz').status != 200)"
ENTRYPOINT ["kintrace"]
CMD ["serve", "--port", "8000"]
