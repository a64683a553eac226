"""The one place Logger, Tracer and Metrics are created.

Service names come from POWERTOOLS_SERVICE_NAME (set per function in template.yaml), so every
log line and metric says which function wrote it.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace="EcomVideo")
