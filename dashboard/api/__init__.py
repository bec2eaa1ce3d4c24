"""The HTTP routers (status and geometry, ingest, Open311, live, audit) and their error models."""
