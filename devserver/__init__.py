"""The local stack behind ``make dev``: template.yaml served on 127.0.0.1 with moto."""
