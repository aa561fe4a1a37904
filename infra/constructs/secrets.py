"""Secrets: the token signing key and the suppression salt, each a generated 64-character string."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra import nag, names


def _generated(length: int = 64) -> secretsmanager.SecretStringGenerator:
    # Letters and digits only: the value is used as raw key bytes and must survive any shell or env.
    return secretsmanager.SecretStringGenerator(password_length=length, exclude_punctuation=True)


class Secrets(Construct):
    """Both secrets use the account's Secrets Manager key and outlive the stack."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.token_signing_key = secretsmanager.Secret(
            self,
            names.SIGNING_KEY,
            description="Baton: HMAC key that signs confirm, preference and unsubscribe tokens.",
            generate_secret_string=_generated(),
            removal_policy=RemovalPolicy.RETAIN,
        )
        nag.acknowledge(
            self.token_signing_key,
            "AwsSolutions-SMG4",
            "Rotation is supported but not scheduled: a new key invalidates every link already sent"
            " (unsubscribe links must keep working for the token TTL, R-CANSPAM-1/R-CASL-3);"
            " rotate by hand with an overlap window.",
        )
        self.suppression_salt = secretsmanager.Secret(
            self,
            names.SUPPRESSION_SALT,
            description="Baton: salt of the suppression-list hashes. Never rotate: old hashes must match.",
            generate_secret_string=_generated(),
            removal_policy=RemovalPolicy.RETAIN,
        )
        nag.acknowledge(
            self.suppression_salt,
            "AwsSolutions-SMG4",
            "Never rotated by design: a new salt would orphan every suppression hash (R-GDPR-5).",
        )

    def grant_read(self, function: lambda_.Function) -> None:
        self.token_signing_key.grant_read(function)
        self.suppression_salt.grant_read(function)
