"""Deploy a synthesized CloudFormation template into moto: the resources Baton's code talks to
(tables, secrets, topics, dead-letter queues, buckets, SES identities, state machines) are created through
the AWS APIs; Lambda functions and the REST API are read from the template and run in-process
(`runtime`, `server`, `stepfunctions`).

Physical names: the template's own name property when it sets one, else `<prefix>-<logical id>`.
State machines are created through the Step Functions API (moto's executing backend does not
see what its CloudFormation creates), with their definition's intrinsics resolved to the local
ARNs. Every function's `BATON_JOURNEYS_DIR` points at the repository's catalog (nothing is
bundled locally).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import boto3
from botocore.exceptions import ClientError

from infra.local.exceptions import FunctionNotFound, TemplateError
from infra.local.intrinsics import Physical, PseudoParameters, Resolver, intrinsic
from infra.names import ENV_JOURNEYS_DIR, ENV_PUBLIC_BASE_URL, ENV_SENDER_EMAIL

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sesv2 import SESV2Client
    from mypy_boto3_sns import SNSClient

DEFAULT_MEMORY_MB: Final = 128
DEFAULT_TIMEOUT_S: Final = 3
# The catalog in this checkout: the local runtime imports the source tree, not a bundled asset.
REPO_JOURNEYS_DIR: Final = Path(__file__).resolve().parents[2] / "journeys"
_CDK_PATH: Final = "aws:cdk:path"
_CDK_HASH: Final = "[0-9A-F]{8}"
_SUBSTITUTION: Final = re.compile(r"\$\{([^}]+)\}")


@dataclass(frozen=True)
class LocalFunction:
    """A Lambda function of the template, ready to run in-process."""

    logical_id: str
    name: str
    arn: str
    handler: str  # module.function
    environment: Mapping[str, str]
    memory_mb: int = DEFAULT_MEMORY_MB
    timeout_s: int = DEFAULT_TIMEOUT_S
    cdk_path: str | None = None


@dataclass(frozen=True)
class LocalStateMachine:
    """A state machine of the template, created in moto's executing Step Functions backend."""

    logical_id: str
    name: str
    arn: str
    definition: str  # the ASL as deployed: intrinsics resolved to local ARNs
    cdk_path: str | None = None


@dataclass(frozen=True)
class LambdaSubscription:
    """An SNS topic delivering to a function of the template."""

    logical_id: str
    topic_logical_id: str
    topic_arn: str
    function_logical_id: str

    @property
    def arn(self) -> str:
        return f"{self.topic_arn}:{hashlib.sha1(self.logical_id.encode()).hexdigest()[:8]}-local"  # noqa: S324


@dataclass
class Deployment:
    """What a template became in moto, and how to take it down again."""

    account_id: str
    region: str
    stack_name: str
    physical: dict[str, Physical] = field(default_factory=dict)
    functions: dict[str, LocalFunction] = field(default_factory=dict)
    state_machines: dict[str, LocalStateMachine] = field(default_factory=dict)
    subscriptions: list[LambdaSubscription] = field(default_factory=list)
    not_deployed: dict[str, str] = field(default_factory=dict)  # logical id -> resource type
    _undo: list[Callable[[], None]] = field(default_factory=list)

    def function(self, name: str) -> LocalFunction:
        """A function by logical id, or by CDK construct id (`PublicApiFunction`)."""
        if name in self.functions:
            return self.functions[name]
        found = [
            f
            for f in self.functions.values()
            if (f.cdk_path and f.cdk_path.split("/")[-2:-1] == [name])
            or re.fullmatch(rf"(?:[A-Za-z0-9]*?){re.escape(name)}{_CDK_HASH}", f.logical_id)
        ]
        if len(found) != 1:
            known = ", ".join(sorted(self.functions)) or "none"
            raise FunctionNotFound(f"{name!r} names {len(found)} functions of the template (it has: {known})")
        return found[0]

    def state_machine(self, name: str) -> LocalStateMachine:
        """A state machine by logical id, state machine name, or CDK construct id."""
        found = [
            m
            for m in self.state_machines.values()
            if name in (m.logical_id, m.name)
            or (m.cdk_path and m.cdk_path.split("/")[-2:-1] == [name])
            or re.fullmatch(rf"(?:[A-Za-z0-9]*?){re.escape(name)}{_CDK_HASH}", m.logical_id)
        ]
        if len(found) != 1:
            known = ", ".join(sorted(m.name for m in self.state_machines.values())) or "none"
            raise TemplateError(
                f"{name!r} names {len(found)} state machines of the template (it has: {known})"
            )
        return found[0]

    def subscriptions_of(self, function_logical_id: str) -> list[LambdaSubscription]:
        return [s for s in self.subscriptions if s.function_logical_id == function_logical_id]

    def teardown(self) -> None:
        """Delete what this deployment created, newest first (moto is shared by the process)."""
        while self._undo:
            try:
                self._undo.pop()()
            except Exception:  # noqa: S112 (best effort: moto may already have been reset)
                continue


def _short_id(*parts: str) -> str:
    """A stable API-Gateway-like id (10 lowercase letters and digits)."""
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:10]


class Deployer:
    """Creates one template's resources in moto. Use `deploy()`."""

    def __init__(
        self,
        template: Mapping[str, Any],
        *,
        session: boto3.Session,
        prefix: str,
        base_url: str,
        stack_name: str,
        journeys_dir: Path = REPO_JOURNEYS_DIR,
    ) -> None:
        self._resources: Mapping[str, Any] = template.get("Resources", {})
        self._prefix = prefix
        self._base_url = base_url
        self._journeys_dir = journeys_dir
        self._dynamodb: DynamoDBClient = session.client("dynamodb")
        self._secrets: SecretsManagerClient = session.client("secretsmanager")
        self._sns: SNSClient = session.client("sns")
        # Any: the dev dependencies carry no SQS or S3 stubs.
        self._sqs: Any = session.client("sqs")
        self._s3: Any = session.client("s3")
        self._ses: SESV2Client = session.client("sesv2")
        # Any: the dev dependencies carry no Step Functions stubs.
        self._sfn: Any = session.client("stepfunctions")
        account_id: str = session.client("sts").get_caller_identity()["Account"]
        region = session.region_name
        self.deployment = Deployment(account_id=account_id, region=region, stack_name=stack_name)
        self._resolver = Resolver.for_template(
            template,
            physical=self.deployment.physical,
            pseudo=PseudoParameters(region=region, account_id=account_id, stack_name=stack_name),
        )

    def deploy(self) -> Deployment:
        steps: tuple[tuple[str, Callable[[str, Mapping[str, Any]], Physical]], ...] = (
            ("AWS::SES::ConfigurationSet", self._configuration_set),
            ("AWS::DynamoDB::Table", self._table),
            ("AWS::SecretsManager::Secret", self._secret),
            ("AWS::SNS::Topic", self._topic),
            ("AWS::SQS::Queue", self._queue),
            ("AWS::S3::Bucket", self._bucket),
            ("AWS::ApiGateway::RestApi", self._rest_api),
            ("AWS::ApiGateway::Resource", self._api_resource),
            ("AWS::ApiGateway::Deployment", self._api_deployment),
            ("AWS::ApiGateway::Stage", self._api_stage),
            ("AWS::Lambda::Function", self._function_ref),
            # After the functions: definitions name their ARNs.
            ("AWS::StepFunctions::StateMachine", self._state_machine),
            ("AWS::SES::EmailIdentity", self._email_identity),
        )
        # Methods are served by the route table, subscriptions by the runtime.
        handled = {kind for kind, _ in steps} | {"AWS::SNS::Subscription", "AWS::ApiGateway::Method"}
        for kind, step in steps:
            for lid, props in self._of_type(kind):
                self.deployment.physical[lid] = step(lid, props)
        for lid, props in self._of_type("AWS::SNS::Subscription"):
            self._subscription(lid, props)
        for lid, props in self._of_type("AWS::Lambda::Function"):
            runtime = str(self._resolver.resolve(props.get("Runtime", "")))
            if not runtime.startswith("python"):
                # CDK's own deploy-time providers (the AwsCustomResource that turns on SES
                # account suppression, Node.js): nothing in local mode invokes them.
                self.deployment.not_deployed[lid] = f"AWS::Lambda::Function ({runtime})"
                continue
            self.deployment.functions[lid] = self._function(lid, props)
        self._verify_senders()
        self.deployment.not_deployed.update(
            {
                lid: res.get("Type", "?")
                for lid, res in self._resources.items()
                if res.get("Type") not in handled
            }
        )
        return self.deployment

    def _of_type(self, kind: str) -> list[tuple[str, Mapping[str, Any]]]:
        found = []
        for lid, res in self._resources.items():
            if res.get("Type") != kind:
                continue
            condition = res.get("Condition")
            if condition is not None and not self._resolver.condition(condition):
                continue
            found.append((lid, res.get("Properties", {})))
        return found

    def _name(self, lid: str, props: Mapping[str, Any], key: str) -> str:
        if key in props:
            return self._resolver.resolve_str(props[key])
        return f"{self._prefix}-{lid}"

    def _undo(self, action: Callable[[], Any]) -> None:
        self.deployment._undo.append(action)

    # Resources --------------------------------------------------------------------------

    def _table(self, lid: str, props: Mapping[str, Any]) -> Physical:
        name = self._name(lid, props, "TableName")
        spec = self._resolver.resolve(
            {k: v for k, v in props.items() if k in ("KeySchema", "AttributeDefinitions", "BillingMode")}
        )
        billing = spec.get("BillingMode", "PROVISIONED")
        throughput = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
        request: dict[str, Any] = {"TableName": name, **spec}
        if billing == "PROVISIONED":
            request["ProvisionedThroughput"] = self._resolver.resolve(
                props.get("ProvisionedThroughput", throughput)
            )
        for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            indexes = []
            for index in self._resolver.resolve(props.get(key, [])):
                wanted = {k: v for k, v in index.items() if k in ("IndexName", "KeySchema", "Projection")}
                if key == "GlobalSecondaryIndexes" and billing == "PROVISIONED":
                    wanted["ProvisionedThroughput"] = index.get("ProvisionedThroughput", throughput)
                indexes.append(wanted)
            if indexes:
                request[key] = indexes
        stream = self._resolver.resolve(props.get("StreamSpecification"))
        if stream:
            request["StreamSpecification"] = {
                "StreamEnabled": True,
                "StreamViewType": stream["StreamViewType"],
            }
        table = self._dynamodb.create_table(**request)["TableDescription"]
        self._undo(lambda: self._dynamodb.delete_table(TableName=name))
        ttl = self._resolver.resolve(props.get("TimeToLiveSpecification"))
        if ttl and ttl.get("Enabled"):
            self._dynamodb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
            )
        attributes = {"Arn": table["TableArn"]}
        if "LatestStreamArn" in table:
            attributes["StreamArn"] = table["LatestStreamArn"]
        return Physical(name, attributes)

    def _secret(self, lid: str, props: Mapping[str, Any]) -> Physical:
        name = self._name(lid, props, "Name")
        if "SecretString" in props:
            value = self._resolver.resolve_str(props["SecretString"])
        else:
            value = self._generate_secret(self._resolver.resolve(props.get("GenerateSecretString", {})))
        arn = self._secrets.create_secret(Name=name, SecretString=value)["ARN"]
        self._undo(lambda: self._secrets.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True))
        return Physical(arn, {"Id": arn})

    def _generate_secret(self, spec: Mapping[str, Any]) -> str:
        options = {
            key: spec[key]
            for key in (
                "ExcludeCharacters",
                "ExcludeLowercase",
                "ExcludeNumbers",
                "ExcludePunctuation",
                "ExcludeUppercase",
                "IncludeSpace",
                "RequireEachIncludedType",
            )
            if key in spec
        }
        password = self._secrets.get_random_password(
            PasswordLength=int(spec.get("PasswordLength", 32)), **options
        )["RandomPassword"]
        if "SecretStringTemplate" in spec:
            document = json.loads(spec["SecretStringTemplate"])
            document[spec.get("GenerateStringKey", "password")] = password
            return json.dumps(document)
        return password

    def _topic(self, lid: str, props: Mapping[str, Any]) -> Physical:
        fifo = str(self._resolver.resolve(props.get("FifoTopic", False))).lower() == "true"
        name = self._name(lid, props, "TopicName")
        if fifo and not name.endswith(".fifo"):
            name += ".fifo"
        arn = self._sns.create_topic(Name=name, Attributes={"FifoTopic": "true"} if fifo else {})["TopicArn"]
        self._undo(lambda: self._sns.delete_topic(TopicArn=arn))
        return Physical(arn, {"TopicArn": arn, "TopicName": name})

    def _queue(self, lid: str, props: Mapping[str, Any]) -> Physical:
        name = self._name(lid, props, "QueueName")
        url: str = self._sqs.create_queue(QueueName=name)["QueueUrl"]
        self._undo(lambda: self._sqs.delete_queue(QueueUrl=url))
        arn = f"arn:aws:sqs:{self.deployment.region}:{self.deployment.account_id}:{name}"
        return Physical(url, {"Arn": arn, "QueueName": name, "QueueUrl": url})

    def _bucket(self, lid: str, props: Mapping[str, Any]) -> Physical:
        """An empty bucket (S3 names are lowercase). Encryption, public access, lifecycle and
        logging are AWS's to enforce: moto stores them but expires and logs nothing."""
        name = self._name(lid, props, "BucketName").lower()
        self._s3.create_bucket(Bucket=name)

        def delete() -> None:
            for page in self._s3.get_paginator("list_objects_v2").paginate(Bucket=name):
                for found in page.get("Contents", []):
                    self._s3.delete_object(Bucket=name, Key=found["Key"])
            self._s3.delete_bucket(Bucket=name)

        self._undo(delete)
        arn = f"arn:aws:s3:::{name}"
        region = self.deployment.region
        return Physical(
            name,
            {
                "Arn": arn,
                "DomainName": f"{name}.s3.amazonaws.com",
                "RegionalDomainName": f"{name}.s3.{region}.amazonaws.com",
            },
        )

    def _configuration_set(self, lid: str, props: Mapping[str, Any]) -> Physical:
        name = self._name(lid, props, "Name")
        self._ses.create_configuration_set(ConfigurationSetName=name)
        self._undo(lambda: self._ses.delete_configuration_set(ConfigurationSetName=name))
        return Physical(name)

    def _email_identity(self, lid: str, props: Mapping[str, Any]) -> Physical:
        identity = self._resolver.resolve_str(props["EmailIdentity"])
        self._create_identity(identity)
        return Physical(identity)

    def _create_identity(self, identity: str) -> None:
        self._ses.create_email_identity(EmailIdentity=identity)
        self._undo(lambda: self._ses.delete_email_identity(EmailIdentity=identity))

    def _verify_senders(self) -> None:
        """SES refuses unverified senders. The template's identity usually covers the sender
        (its domain); when it does not, verify the address, as a sandbox account would."""
        listed = self._ses.list_email_identities().get("EmailIdentities", [])
        known = {i["IdentityName"] for i in listed if "IdentityName" in i}
        for function in self.deployment.functions.values():
            sender = function.environment.get(ENV_SENDER_EMAIL)
            if sender and sender not in known and sender.rsplit("@", 1)[-1] not in known:
                self._create_identity(sender)
                known.add(sender)

    def _rest_api(self, lid: str, props: Mapping[str, Any]) -> Physical:
        api_id = _short_id(self._prefix, lid)
        return Physical(api_id, {"RootResourceId": _short_id(self._prefix, lid, "/"), "RestApiId": api_id})

    def _api_resource(self, lid: str, props: Mapping[str, Any]) -> Physical:
        return Physical(_short_id(self._prefix, lid), {"ResourceId": _short_id(self._prefix, lid)})

    def _api_deployment(self, lid: str, props: Mapping[str, Any]) -> Physical:
        return Physical(_short_id(self._prefix, lid), {"DeploymentId": _short_id(self._prefix, lid)})

    def _api_stage(self, lid: str, props: Mapping[str, Any]) -> Physical:
        return Physical(self._resolver.resolve_str(props.get("StageName", "prod")))

    def _function_ref(self, lid: str, props: Mapping[str, Any]) -> Physical:
        name = self._name(lid, props, "FunctionName")
        arn = f"arn:aws:lambda:{self.deployment.region}:{self.deployment.account_id}:function:{name}"
        return Physical(name, {"Arn": arn})

    def _function(self, lid: str, props: Mapping[str, Any]) -> LocalFunction:
        handler = self._resolver.resolve_str(props.get("Handler", ""))
        if "." not in handler:
            raise TemplateError(f"{lid}: Handler {handler!r} is not module.function")
        variables = props.get("Environment", {}).get("Variables", {})
        environment = {}
        for key, value in variables.items():
            if key == ENV_PUBLIC_BASE_URL:
                environment[key] = self._base_url  # links in emails must come back to this server
                continue
            if key == ENV_JOURNEYS_DIR:
                continue  # set below for every function
            try:
                environment[key] = self._resolver.resolve_str(value)
            except TemplateError as exc:
                raise TemplateError(f"{lid} Environment.Variables.{key}: {exc}") from exc
        environment[ENV_JOURNEYS_DIR] = str(self._journeys_dir)
        physical = self.deployment.physical[lid]
        metadata = self._resources[lid].get("Metadata", {})
        return LocalFunction(
            logical_id=lid,
            name=physical.ref,
            arn=physical.attributes["Arn"],
            handler=handler,
            environment=environment,
            memory_mb=int(self._resolver.resolve(props.get("MemorySize", DEFAULT_MEMORY_MB))),
            timeout_s=int(self._resolver.resolve(props.get("Timeout", DEFAULT_TIMEOUT_S))),
            cdk_path=metadata.get(_CDK_PATH),
        )

    def _state_machine(self, lid: str, props: Mapping[str, Any]) -> Physical:
        name = self._name(lid, props, "StateMachineName")
        definition = self._definition(lid, props)
        request: dict[str, Any] = {
            "name": name,
            "definition": definition,
            # IAM is not enforced locally; the role only has to look like one.
            "roleArn": f"arn:aws:iam::{self.deployment.account_id}:role/{self._prefix}-{lid}-role",
            "type": self._resolver.resolve_str(props.get("StateMachineType", "STANDARD")),
        }
        tracing = self._resolver.resolve(props.get("TracingConfiguration"))
        if tracing:
            request["tracingConfiguration"] = {"enabled": str(tracing.get("Enabled")).lower() == "true"}
        try:
            arn = self._sfn.create_state_machine(**request)["stateMachineArn"]
        except ClientError as exc:
            raise TemplateError(f"{lid}: Step Functions refused the definition: {exc}") from exc
        self._undo(lambda: self._sfn.delete_state_machine(stateMachineArn=arn))
        metadata = self._resources[lid].get("Metadata", {})
        self.deployment.state_machines[lid] = LocalStateMachine(
            logical_id=lid, name=name, arn=arn, definition=definition, cdk_path=metadata.get(_CDK_PATH)
        )
        return Physical(arn, {"Arn": arn, "Name": name})

    def _definition(self, lid: str, props: Mapping[str, Any]) -> str:
        """The ASL text, as CloudFormation would hand it to Step Functions."""
        try:
            if "DefinitionString" in props:
                text = self._resolver.resolve_str(props["DefinitionString"])
            elif "Definition" in props:
                text = json.dumps(self._resolver.resolve(props["Definition"]))
            else:
                raise TemplateError(
                    f"{lid}: the local stack reads DefinitionString or Definition "
                    "(DefinitionS3Location is not supported)"
                )
            substitutions = {
                key: self._resolver.resolve_str(value)
                for key, value in props.get("DefinitionSubstitutions", {}).items()
            }
        except TemplateError as exc:
            raise TemplateError(f"{lid} definition: {exc}") from exc
        if substitutions:
            text = _SUBSTITUTION.sub(lambda m: substitutions.get(m.group(1), m.group(0)), text)
        return text

    def _subscription(self, lid: str, props: Mapping[str, Any]) -> None:
        if str(props.get("Protocol", "")).lower() != "lambda":
            self.deployment.not_deployed[lid] = f"AWS::SNS::Subscription ({props.get('Protocol')})"
            return
        endpoint, topic = intrinsic(props.get("Endpoint")), intrinsic(props.get("TopicArn"))
        if not (endpoint and endpoint[0] == "Fn::GetAtt" and topic and topic[0] == "Ref"):
            raise TemplateError(
                f"{lid}: a lambda subscription needs Endpoint GetAtt [Fn, Arn] and TopicArn Ref"
            )
        function_lid = endpoint[1][0] if isinstance(endpoint[1], list) else str(endpoint[1]).split(".")[0]
        self.deployment.subscriptions.append(
            LambdaSubscription(
                logical_id=lid,
                topic_logical_id=topic[1],
                topic_arn=self._resolver.resolve_str(props["TopicArn"]),
                function_logical_id=function_lid,
            )
        )


def deploy(
    template: Mapping[str, Any],
    *,
    region: str,
    prefix: str,
    base_url: str,
    stack_name: str,
    journeys_dir: Path = REPO_JOURNEYS_DIR,
) -> Deployment:
    """Create the template's resources in the (already started) moto mock."""
    session = boto3.Session(region_name=region)
    deployer = Deployer(
        template,
        session=session,
        prefix=prefix,
        base_url=base_url,
        stack_name=stack_name,
        journeys_dir=journeys_dir,
    )
    try:
        return deployer.deploy()
    except BaseException:
        deployer.deployment.teardown()
        raise
