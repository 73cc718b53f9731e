"""The public ingest service: pixel, redirects, event endpoints, Kafka producer."""
