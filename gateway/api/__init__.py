"""The HTTP API under `/api/v1`: the app, dependencies (authorization lives there), schemas,
OpenAPI links, rate limits, idempotency keys, the per-member event stream, and `routes/`,
one small module per resource. Calls down into identity/, tx/ and store/; never the reverse.
"""
