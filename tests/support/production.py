"""An environment with which ``portal.settings.production`` starts: every
required variable, with a valid (and fake) value."""

PRODUCTION_ENV = {
    "SECRET_KEY": "k" * 20 + "0123456789abcdefghijklmnopqrstuvwxyz",
    "ALLOWED_HOSTS": "portal.example.com",
    "DATABASE_URL": "postgres://portal@db.example.com:5432/portal",
    "REDIS_URL": "redis://redis.example.com:6379/0",
}
