"""The data plane: one DynamoDB table per `baton.data.tables` spec (the shapes repositories use)."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from baton.data.tables import ALL_TABLES, TableSpec
from infra import nag, names
from infra.nag import logical_id


def _string(name: str | None) -> dynamodb.Attribute | None:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING) if name else None


class DataPlane(Construct):
    """Tables with PITR, KMS encryption and on-demand billing; data tables survive stack deletion."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.tables: dict[str, dynamodb.Table] = {spec.id: self._build_table(spec) for spec in ALL_TABLES}

    def _build_table(self, spec: TableSpec) -> dynamodb.Table:
        partition_key = _string(spec.partition_key)
        assert partition_key is not None
        table = dynamodb.Table(
            self,
            names.table_construct_id(spec.id),
            partition_key=partition_key,
            sort_key=_string(spec.sort_key),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=spec.ttl_attribute,
            # Contacts, consent proof, timeline and suppression hashes outlive the stack;
            # idempotency records and pacing counts are short-lived (TTL) and may go with it.
            removal_policy=RemovalPolicy.RETAIN if spec.retain else RemovalPolicy.DESTROY,
        )
        for index in spec.indexes:
            index_key = _string(index.partition_key)
            assert index_key is not None
            table.add_global_secondary_index(
                index_name=index.name,
                partition_key=index_key,
                sort_key=_string(index.sort_key),
                projection_type=dynamodb.ProjectionType(index.projection),
            )
        return table

    def grant_read_write(self, function: lambda_.Function) -> None:
        """Let a function read and write every table and query its indexes."""
        for spec in ALL_TABLES:
            table = self.tables[spec.id]
            table.grant_read_write_data(function)
            if spec.indexes and function.role is not None:
                nag.acknowledge(
                    function.role,
                    f"AwsSolutions-IAM5[Resource::<{logical_id(table)}.Arn>/index/*]",
                    f"Lookups query the {spec.id} table's GSIs; index ARNs exist only under the table ARN.",
                )
