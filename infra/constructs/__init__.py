"""Baton's CDK constructs, one per concern; `infra.stack.BatonStack` composes them."""
