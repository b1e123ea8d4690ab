"""Pipeline stages: ingest → extract → retrieve → compare → verdict → report."""
