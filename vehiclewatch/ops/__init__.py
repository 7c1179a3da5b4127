"""Running the service: health and readiness checks, Prometheus metrics, request ids and
one log line per request."""
