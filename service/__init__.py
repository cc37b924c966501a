"""The Kintrace FastAPI service: registry of tracing requests, persons and names."""
