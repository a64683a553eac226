"""The one place Logger, Tracer and Metrics are created.

Service names come from POWERTOOLS_SERVICE_NAME (set per function in template.yaml), so every
log line and metric says which function wrote it.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
# Patch only the clients we call out with. Tracer() alone runs X-Ray's patch_all in Lambda,
# which imports every supported library that is installed (SQLAlchemy, psycopg, requests...):
# about 2 s of cold start here, and the ORM in functions that must not load it (authorizer
# paths, webhook signature checks). botocore: AWS calls; httpx: Freepik, scraping, webhooks.
TRACED_MODULES = ("botocore", "httpx")
tracer = Tracer(patch_modules=TRACED_MODULES)
metrics = Metrics(namespace="EcomVideo")
