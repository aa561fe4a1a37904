"""Secrets come from Secrets Manager through Powertools, as bytes, cached between calls."""

from __future__ import annotations

import boto3

import baton.secrets
from baton.settings import Settings


def test_the_signing_key_and_the_salt_are_two_different_secrets_as_bytes(aws: Settings) -> None:
    key = baton.secrets.signing_key(aws)
    salt = baton.secrets.suppression_salt(aws)

    assert isinstance(key, bytes)
    assert len(key) == 64
    assert isinstance(salt, bytes)
    assert len(salt) == 64
    assert key != salt


def test_settings_default_to_the_environment(aws: Settings) -> None:
    assert baton.secrets.signing_key() == baton.secrets.signing_key(aws)


def test_a_rotated_key_is_read_once_the_cache_is_reset(aws: Settings) -> None:
    before = baton.secrets.signing_key(aws)
    boto3.client("secretsmanager").put_secret_value(SecretId=aws.token_secret_arn, SecretString="r" * 64)

    cached = baton.secrets.signing_key(aws)
    baton.secrets.reset()
    after = baton.secrets.signing_key(aws)

    assert cached == before
    assert after == b"r" * 64
