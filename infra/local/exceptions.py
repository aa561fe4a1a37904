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
    """A handler raised, or answered something its caller cannot use."""
