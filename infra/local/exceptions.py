"""Errors of the local stack: a template it cannot deploy, or a function that failed."""

from __future__ import annotations


class LocalStackError(Exception):
    """Base of every local-stack error."""


class TemplateError(LocalStackError):
    """The template holds something the local stack cannot deploy faithfully."""


class UnsupportedIntrinsic(TemplateError):
    """An intrinsic function (`Fn::...`) the resolver does not implement."""


class UnresolvableReference(TemplateError):
    """A `Ref`/`Fn::GetAtt` to a resource or attribute with no local counterpart."""


class FunctionNotFound(LocalStackError):
    """No Lambda function in the template by that logical id or construct id."""


class InvocationError(LocalStackError):
    """A handler raised, or answered something its caller cannot use. `error_type` is what
    Lambda reports as `errorType` (the exception's class name, or a `Runtime.*` error), which
    Step Functions matches against Retry and Catch `ErrorEquals`."""

    def __init__(
        self,
        message: str,
        *,
        error_type: str = "Runtime.Unknown",
        error_message: str = "",
        stack_trace: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.error_message = error_message or message
        self.stack_trace = stack_trace

    def lambda_payload(self, request_id: str = "") -> dict[str, object]:
        """The body Lambda returns with `FunctionError: Unhandled`."""
        return {
            "errorMessage": self.error_message,
            "errorType": self.error_type,
            "requestId": request_id,
            "stackTrace": list(self.stack_trace),
        }
