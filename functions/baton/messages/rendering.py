"""Jinja2 in a sandbox, for templates shipped as package files, with locale fallback.

Undefined variables are errors (StrictUndefined); HTML templates (`*.html`) are autoescaped,
text templates are not. Templates live under `<package>/templates/<locale>/<name>` and are
read with importlib.resources, so they ship inside the Lambda asset.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import resources
from typing import Any

from jinja2 import BaseLoader, Environment, StrictUndefined, Template, TemplateNotFound, select_autoescape
from jinja2.sandbox import ImmutableSandboxedEnvironment

DEFAULT_LOCALE = "en"


def normalize_locale(locale: str | None) -> str:
    """`pt_br`, `PT-br` -> `pt-BR`; empty -> the default locale."""
    if not locale or not locale.strip():
        return DEFAULT_LOCALE
    language, _, region = locale.strip().replace("_", "-").partition("-")
    return f"{language.lower()}-{region.upper()}" if region else language.lower()


def locale_chain(locale: str | None) -> tuple[str, ...]:
    """Where to look, in order: `pt-BR` -> (`pt-BR`, `pt`, `en`)."""
    wanted = normalize_locale(locale)
    chain = [wanted]
    language = wanted.partition("-")[0]
    if language != wanted:
        chain.append(language)
    chain.append(DEFAULT_LOCALE)
    return tuple(dict.fromkeys(chain))


class _PackageLoader(BaseLoader):
    """Reads `templates/<name>` from a package with importlib.resources."""

    def __init__(self, package: str) -> None:
        self._root = resources.files(package) / "templates"

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool]]:
        parts = template.split("/")
        if any(part in ("", ".", "..") for part in parts):
            raise TemplateNotFound(template)
        resource = self._root.joinpath(*parts)
        if not resource.is_file():
            raise TemplateNotFound(template)
        return resource.read_text(encoding="utf-8"), None, lambda: True


class LocalizedTemplates:
    """Finds `<locale>/<name>` along the locale chain and renders it in the sandbox."""

    def __init__(self, package: str, globals_: Mapping[str, Any] | None = None) -> None:
        self.environment = ImmutableSandboxedEnvironment(
            loader=_PackageLoader(package),
            undefined=StrictUndefined,
            autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        self.environment.globals.update(globals_ or {})

    def find(self, name: str, locale: str | None) -> tuple[Template, str]:
        """The template and the locale it was found in (for `<html lang>`)."""
        for each in locale_chain(locale):
            try:
                return self.environment.get_template(f"{each}/{name}"), each
            except TemplateNotFound:
                continue
        raise TemplateNotFound(name)

    def render(self, name: str, locale: str | None, values: Mapping[str, Any]) -> str:
        template, _ = self.find(name, locale)
        return template.render(values)
