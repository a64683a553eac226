"""``Settings.from_env``: which variable feeds which field, and how strings become values."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ecomvideo.settings import Settings


def test_unset_variables_keep_the_documented_defaults():
    settings = Settings.from_env({})
    assert settings.stage == "dev"
    assert settings.db_pool_size == 2
    assert settings.database_url is None
    assert settings.scraper_respect_robots is True


def test_variable_names_are_upper_case_field_names_matched_case_insensitively():
    settings = Settings.from_env({"STAGE": "prod", "db_pool_size": "7", "Max_Body_Bytes": "10"})
    assert (settings.stage, settings.db_pool_size, settings.max_body_bytes) == ("prod", 7, 10)


def test_an_alias_is_the_variable_and_the_field_name_is_not():
    settings = Settings.from_env({"AWS_REGION": "eu-west-1", "AWS_ENDPOINT_URL_S3": "http://s3"})
    assert settings.aws_region == "eu-west-1"
    assert settings.s3_public_endpoint == "http://s3"
    assert Settings.from_env({"S3_PUBLIC_ENDPOINT": "http://x"}).s3_public_endpoint is None


@pytest.mark.parametrize(("raw", "expected"), [("false", False), ("0", False), ("TRUE", True)])
def test_booleans_and_numbers_are_parsed_from_strings(raw: str, expected: bool):
    settings = Settings.from_env({"SCRAPER_RESPECT_ROBOTS": raw, "SCRAPER_MAX_GATE_WAIT_S": "2.5"})
    assert settings.scraper_respect_robots is expected
    assert settings.scraper_max_gate_wait_s == 2.5


def test_a_malformed_number_fails_loudly_naming_the_field():
    with pytest.raises(ValidationError, match="db_pool_size"):
        Settings.from_env({"DB_POOL_SIZE": "two"})


def test_unknown_variables_are_ignored():
    assert Settings.from_env({"PATH": "/bin", "UNRELATED": "x"}).stage == "dev"
