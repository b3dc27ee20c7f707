"""The platform library under every app: Redis, database, crypto, settings helpers, logging, metrics,
middleware, caches and their invalidation, the serving version, the API's shared pieces."""
