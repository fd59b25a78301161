"""The gateway's routes, one small module per resource, mounted under `/api/v1`."""
