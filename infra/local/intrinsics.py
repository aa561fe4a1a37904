"""CloudFormation intrinsic functions, resolved against what the local stack deployed.

Only what CDK templates use is implemented; anything else raises `UnsupportedIntrinsic`, so a
template the local stack would deploy wrongly fails at start, not halfway through a request.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from infra.local.exceptions import UnresolvableReference, UnsupportedIntrinsic

_SUB_VARIABLE: Final = re.compile(r"\$\{([^}]*)\}")
_AVAILABILITY_ZONES: Final = ("a", "b", "c")


class _NoValue:
    """`Ref: AWS::NoValue`: the property (or list item) is removed."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE: Final = _NoValue()


@dataclass(frozen=True)
class Physical:
    """A deployed resource as the template's intrinsics see it: `Ref` and `Fn::GetAtt` values."""

    ref: str
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PseudoParameters:
    region: str
    account_id: str
    stack_name: str
    partition: str = "aws"
    url_suffix: str = "amazonaws.com"

    def as_map(self) -> dict[str, Any]:
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::Partition": self.partition,
            "AWS::URLSuffix": self.url_suffix,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": (
                f"arn:{self.partition}:cloudformation:{self.region}:{self.account_id}:stack/{self.stack_name}/local"
            ),
            "AWS::NotificationARNs": [],
            "AWS::NoValue": NO_VALUE,
        }


def intrinsic(value: Any) -> tuple[str, Any] | None:
    """`(name, argument)` when `value` is an intrinsic function call, else None."""
    if isinstance(value, dict) and len(value) == 1:
        ((name, argument),) = value.items()
        if name == "Ref" or name.startswith("Fn::") or name == "Condition":
            return name, argument
    return None


def references(value: Any) -> Iterator[tuple[str, str | None]]:
    """Every `(logical id, attribute)` a value points at: attribute None for a `Ref`."""
    call = intrinsic(value)
    if call is not None:
        name, argument = call
        if name == "Ref" and isinstance(argument, str):
            yield argument, None
            return
        if name == "Fn::GetAtt":
            logical_id, attribute = _get_att_parts(argument)
            yield logical_id, attribute
            return
    if isinstance(value, dict):
        for item in value.values():
            yield from references(item)
    elif isinstance(value, list):
        for item in value:
            yield from references(item)


def _get_att_parts(argument: Any) -> tuple[str, str]:
    if isinstance(argument, str) and "." in argument:
        logical_id, attribute = argument.split(".", 1)
        return logical_id, attribute
    if isinstance(argument, list) and len(argument) == 2 and all(isinstance(a, str) for a in argument):
        return argument[0], argument[1]
    raise UnsupportedIntrinsic(f"Fn::GetAtt needs [LogicalId, Attribute], got {argument!r}")


class Resolver:
    """Resolves template values to plain JSON values (strings, numbers, lists, dicts)."""

    def __init__(
        self,
        *,
        physical: Mapping[str, Physical],
        pseudo: PseudoParameters,
        parameters: Mapping[str, Any] | None = None,
        conditions: Mapping[str, Any] | None = None,
        mappings: Mapping[str, Any] | None = None,
        resource_types: Mapping[str, str] | None = None,
    ) -> None:
        self._physical = physical
        self._pseudo = pseudo.as_map()
        self._region = pseudo.region
        self._parameters = parameters or {}
        self._conditions = conditions or {}
        self._mappings = mappings or {}
        self._resource_types = resource_types or {}
        self._condition_values: dict[str, bool] = {}

    @classmethod
    def for_template(
        cls, template: Mapping[str, Any], *, physical: Mapping[str, Physical], pseudo: PseudoParameters
    ) -> Resolver:
        """Parameters take their `Default` (a local deploy has nobody to ask)."""
        parameters = {
            name: spec["Default"]
            for name, spec in template.get("Parameters", {}).items()
            if isinstance(spec, dict) and "Default" in spec
        }
        return cls(
            physical=physical,
            pseudo=pseudo,
            parameters=parameters,
            conditions=template.get("Conditions", {}),
            mappings=template.get("Mappings", {}),
            resource_types={lid: r.get("Type", "?") for lid, r in template.get("Resources", {}).items()},
        )

    def resolve(self, value: Any) -> Any:
        call = intrinsic(value)
        if call is not None:
            return self._call(*call)
        if isinstance(value, dict):
            resolved = {key: self.resolve(item) for key, item in value.items()}
            return {key: item for key, item in resolved.items() if item is not NO_VALUE}
        if isinstance(value, list):
            return [item for item in (self.resolve(v) for v in value) if item is not NO_VALUE]
        return value

    def resolve_str(self, value: Any) -> str:
        """A value as CloudFormation passes it to a string property (env vars, names)."""
        resolved = self.resolve(value)
        if isinstance(resolved, bool):
            return "true" if resolved else "false"
        if isinstance(resolved, int | float | str):
            return str(resolved)
        raise UnsupportedIntrinsic(f"expected a string, got {resolved!r}")

    def condition(self, name: str) -> bool:
        if name not in self._condition_values:
            if name not in self._conditions:
                raise UnresolvableReference(f"condition {name!r} is not defined in the template")
            self._condition_values[name] = self._truth(self._conditions[name])
        return self._condition_values[name]

    # Intrinsics -------------------------------------------------------------------------

    def _call(self, name: str, argument: Any) -> Any:
        handler = self._HANDLERS.get(name)
        if handler is None:
            raise UnsupportedIntrinsic(f"{name} is not supported by the local stack")
        return handler(self, argument)

    def _ref(self, argument: Any) -> Any:
        if not isinstance(argument, str):
            raise UnsupportedIntrinsic(f"Ref needs a name, got {argument!r}")
        if argument in self._pseudo:
            return self._pseudo[argument]
        if argument in self._parameters:
            return self._parameters[argument]
        return self._physical_of(argument, "Ref").ref

    def _get_att(self, argument: Any) -> str:
        logical_id, attribute = _get_att_parts(argument)
        physical = self._physical_of(logical_id, f"Fn::GetAtt {logical_id}.{attribute}")
        if attribute not in physical.attributes:
            raise UnresolvableReference(
                f"Fn::GetAtt {logical_id}.{attribute}: the local {self._type_of(logical_id)} has no "
                f"{attribute!r} (it has: {', '.join(sorted(physical.attributes)) or 'none'})"
            )
        return physical.attributes[attribute]

    def _physical_of(self, logical_id: str, what: str) -> Physical:
        if logical_id in self._physical:
            return self._physical[logical_id]
        if logical_id in self._resource_types:
            raise UnresolvableReference(
                f"{what}: {logical_id} ({self._type_of(logical_id)}) is not deployed by the local stack"
            )
        raise UnresolvableReference(f"{what}: no resource or parameter named {logical_id!r}")

    def _type_of(self, logical_id: str) -> str:
        return self._resource_types.get(logical_id, "resource")

    def _join(self, argument: Any) -> str:
        if not (isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str)):
            raise UnsupportedIntrinsic(f"Fn::Join needs [delimiter, [values]], got {argument!r}")
        delimiter, values = argument[0], self.resolve(argument[1])
        if not isinstance(values, list):
            raise UnsupportedIntrinsic(f"Fn::Join needs a list of values, got {values!r}")
        return delimiter.join(self.resolve_str(v) for v in values)

    def _sub(self, argument: Any) -> str:
        if isinstance(argument, str):
            text, variables = argument, {}
        elif isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str):
            text, variables = argument[0], self.resolve(argument[1])
        else:
            raise UnsupportedIntrinsic(f"Fn::Sub needs a string or [string, {{vars}}], got {argument!r}")

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return self.resolve_str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                return self._get_att(name)
            return self.resolve_str(self._ref(name))

        return _SUB_VARIABLE.sub(replace, text)

    def _select(self, argument: Any) -> Any:
        if not (isinstance(argument, list) and len(argument) == 2):
            raise UnsupportedIntrinsic(f"Fn::Select needs [index, [values]], got {argument!r}")
        index, values = int(self.resolve(argument[0])), self.resolve(argument[1])
        if not isinstance(values, list) or not 0 <= index < len(values):
            raise UnresolvableReference(f"Fn::Select index {index} out of range of {values!r}")
        return values[index]

    def _split(self, argument: Any) -> list[str]:
        if not (isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str)):
            raise UnsupportedIntrinsic(f"Fn::Split needs [delimiter, string], got {argument!r}")
        return self.resolve_str(argument[1]).split(argument[0])

    def _if(self, argument: Any) -> Any:
        if not (isinstance(argument, list) and len(argument) == 3 and isinstance(argument[0], str)):
            raise UnsupportedIntrinsic(f"Fn::If needs [condition, then, else], got {argument!r}")
        return self.resolve(argument[1] if self.condition(argument[0]) else argument[2])

    def _find_in_map(self, argument: Any) -> Any:
        if not (isinstance(argument, list) and len(argument) == 3):
            raise UnsupportedIntrinsic(f"Fn::FindInMap needs [map, key, key], got {argument!r}")
        map_name, top, second = (self.resolve_str(a) for a in argument)
        try:
            return self._mappings[map_name][top][second]
        except KeyError as exc:
            raise UnresolvableReference(
                f"Fn::FindInMap {map_name}/{top}/{second} is not in Mappings"
            ) from exc

    def _base64(self, argument: Any) -> str:
        return base64.b64encode(self.resolve_str(argument).encode()).decode()

    def _get_azs(self, argument: Any) -> list[str]:
        region = self.resolve_str(argument) or self._region
        return [f"{region}{suffix}" for suffix in _AVAILABILITY_ZONES]

    # Conditions -------------------------------------------------------------------------

    def _truth(self, value: Any) -> bool:
        call = intrinsic(value)
        if call is None:
            raise UnsupportedIntrinsic(f"a condition must be a condition function, got {value!r}")
        name, argument = call
        if name == "Condition":
            return self.condition(argument)
        if name == "Fn::Equals":
            left, right = (self.resolve(a) for a in argument)
            return bool(left == right)
        if name == "Fn::Not":
            return not self._truth(argument[0])
        if name == "Fn::And":
            return all(self._truth(a) for a in argument)
        if name == "Fn::Or":
            return any(self._truth(a) for a in argument)
        raise UnsupportedIntrinsic(f"{name} is not a condition function the local stack supports")

    def _condition_value(self, argument: Any) -> bool:
        return self._truth({"Condition": argument})

    def _equals(self, argument: Any) -> bool:
        return self._truth({"Fn::Equals": argument})

    def _not(self, argument: Any) -> bool:
        return self._truth({"Fn::Not": argument})

    def _and(self, argument: Any) -> bool:
        return self._truth({"Fn::And": argument})

    def _or(self, argument: Any) -> bool:
        return self._truth({"Fn::Or": argument})

    _HANDLERS: Final[dict[str, Callable[[Resolver, Any], Any]]] = {
        "Ref": _ref,
        "Fn::GetAtt": _get_att,
        "Fn::Join": _join,
        "Fn::Sub": _sub,
        "Fn::Select": _select,
        "Fn::Split": _split,
        "Fn::If": _if,
        "Fn::FindInMap": _find_in_map,
        "Fn::Base64": _base64,
        "Fn::GetAZs": _get_azs,
        "Condition": _condition_value,
        "Fn::Equals": _equals,
        "Fn::Not": _not,
        "Fn::And": _and,
        "Fn::Or": _or,
    }
