"""Operations: request ids, structured and redacted logs, Prometheus metrics,
readiness. Wired from settings (MIDDLEWARE, LOGGING), urls and apps.ready()."""
