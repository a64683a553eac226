"""Typed configuration: the module that reads the process environment.

Every variable is documented in the README's configuration table. Values are read once per
Lambda container (``get_settings`` is cached); tests call ``reset_settings()`` after changing
the environment. The exception is ``jwt_config``: the authorizer reads its five variables
there without pydantic (same names and defaults, checked by a test).

A field's variable is its alias or its name, upper-cased, matched case-insensitively; pydantic
converts and validates the strings. This is a plain ``BaseModel`` read by ``Settings.from_env``,
not pydantic-settings: that package's sources cost every function 30-60 ms of cold start for
features we do not use (dotenv files, secrets directories, CLI, cloud vaults).
"""

import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Self

from pydantic import BaseModel, ConfigDict, Field

from ecomvideo.jwt_config import DEFAULT_AUDIENCE, DEFAULT_ISSUER, jwt_config


class Settings(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    stage: str = Field("dev", description="Deployment stage name (dev, prod, local, test).")
    app_version: str = Field("0.1.0", description="Version reported by /v1/health.")

    # Database
    database_url: str | None = Field(
        None, description="PostgreSQL URL. When unset, DB_SECRET_ARN is read instead."
    )
    db_secret_arn: str | None = Field(
        None, description="Secrets Manager secret holding host/port/username/password/dbname."
    )
    db_pool_size: int = Field(2, description="Connections kept per Lambda container.")
    db_max_overflow: int = Field(2, description="Extra connections allowed under burst.")
    db_statement_timeout_ms: int = Field(15000, description="Server-side statement timeout.")
    db_connect_timeout_s: int = Field(5, description="TCP connect timeout to PostgreSQL.")

    # AWS resources (names/ARNs come from template.yaml)
    aws_region: str = Field(
        "us-east-1", alias="AWS_REGION", description="AWS region (set by Lambda)."
    )
    videos_bucket: str = Field("ecomvideo-videos-local", description="S3 bucket for media.")
    uploads_bucket: str = Field("ecomvideo-uploads-local", description="S3 bucket for uploads.")
    pipeline_queue_url: str | None = Field(None, description="SQS work queue of the pipeline.")
    state_machine_arn: str | None = Field(None, description="Video pipeline state machine ARN.")
    s3_public_endpoint: str | None = Field(
        None,
        alias="AWS_ENDPOINT_URL_S3",
        description="Endpoint used to sign S3 URLs (the moto server in the local stack).",
    )

    # Auth
    jwt_issuer: str = Field(DEFAULT_ISSUER, description="iss claim of access tokens.")
    jwt_audience: str = Field(DEFAULT_AUDIENCE, description="aud claim of access tokens.")
    jwt_private_key_secret_arn: str | None = Field(
        None, description="Secrets Manager secret with the Ed25519 signing key (PEM)."
    )
    jwt_public_key: str | None = Field(None, description="Ed25519 public key (PEM) to verify.")
    jwt_private_key: str | None = Field(
        None, description="Ed25519 private key (PEM); local/test only, use the secret in AWS."
    )
    frontend_url: str = Field("http://127.0.0.1:3000", description="Base of links in emails.")
    email_sender: str = Field("no-reply@ecomvideo.ai", description="SES From address.")

    # Providers
    video_provider: str = Field(
        "auto", description="auto (Freepik when a key is set, else Local), Local or Freepik."
    )
    freepik_base_url: str = Field("https://api.freepik.com", description="Freepik API base URL.")
    freepik_api_key_header: str = Field("x-freepik-api-key", description="API key header name.")
    freepik_api_key: str | None = Field(None, description="Freepik API key (local only).")
    freepik_secret_arn: str | None = Field(
        None, description="Secrets Manager secret with api_key and webhook_secret."
    )
    freepik_webhook_secret: str | None = Field(None, description="Webhook HMAC secret (local).")
    freepik_image_model: str = Field("mystic", description="Freepik text-to-image model.")
    freepik_video_model: str = Field(
        "kling-v2-1-pro", description="Freepik image-to-video model (see clients/freepik.py)."
    )
    public_api_url: str | None = Field(
        None,
        description="Public base URL of this API; webhook callbacks go to <url>/webhooks/freepik.",
    )
    freepik_poll_after_minutes: int = Field(
        5,
        description="The sweep polls a provider task whose scheduled poll is this overdue (its"
        " delayed poll message was lost), most overdue first.",
    )
    provider_poll_intervals: str = Field(
        "10,20,40,60",
        description="Seconds between polls of a provider task from its start (the last repeats;"
        " a lost webhook costs at most one interval).",
    )
    provider_gate_retry_seconds: int = Field(
        5, description="How soon a step queued behind the provider concurrency gate tries again."
    )
    provider_max_wait_minutes: int = Field(
        30,
        description="A provider task still running this long after its step started fails.",
    )

    # Stripe
    stripe_parked_alarm_hours: int = Field(
        6,
        description="A Stripe event parked this long counts as overdue (metric + alarm).",
    )
    stripe_secret_arn: str | None = Field(
        None, description="Secrets Manager secret with api_key and webhook_secret."
    )
    stripe_api_key: str | None = Field(None, description="Stripe secret key (local only).")
    stripe_webhook_secret: str | None = Field(None, description="Stripe webhook secret (local).")

    analytics_queue_url: str | None = Field(
        None, description="SQS queue of public video events (unset: recorded in the request)."
    )

    # Scraping
    scrape_queue_url: str | None = Field(
        None, description="SQS queue of product scrapes (unset: scrape inside the request)."
    )
    scraper_respect_robots: bool = Field(True, description="Honour robots.txt when scraping.")
    scraper_fresh_hours: int = Field(
        24, description="A user's scrape of the same URL younger than this is reused."
    )
    scraper_default_delay_ms: int = Field(
        1000, description="Politeness delay per shop domain without a scraping rule."
    )
    scraper_max_gate_wait_s: float = Field(
        5.0, description="Longest in-request wait for a shop's politeness slot."
    )

    # HTTP
    max_body_bytes: int = Field(1_048_576, description="Largest accepted request body.")
    cors_allow_origin: str = Field("*", description="CORS allowed origin for the HTTP API.")

    @classmethod
    def env_names(cls) -> dict[str, str]:
        """Field name -> the environment variable it is read from."""
        return {name: (field.alias or name).upper() for name, field in cls.model_fields.items()}

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        """The settings from ``environ`` (default: the process environment)."""
        source = os.environ if environ is None else environ
        upper = {key.upper(): value for key, value in source.items()}
        values = {
            cls.model_fields[name].alias or name: upper[var]
            for name, var in cls.env_names().items()
            if var in upper
        }
        return cls.model_validate(values)

    def sqlalchemy_url(self) -> str | None:
        """DATABASE_URL rewritten for the psycopg 3 driver, or None when unset."""
        url = self.database_url
        if not url:
            return None
        for prefix in ("postgres://", "postgresql://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()


def reset_settings() -> None:
    get_settings.cache_clear()
    jwt_config.cache_clear()
