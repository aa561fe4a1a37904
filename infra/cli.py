"""`baton`: the command line. `baton local` serves the API over the embedded AWS until stopped;
`baton validate` checks the journeys folder; `baton schema` writes its JSON Schema for editors;
`baton approve TEMPLATE --by EMAIL` records legal approval of a template's content as it is now;
`baton dnc load FILE` loads a do-not-contact list into a running `baton local` (R-BR-1);
`baton campaign start|status|pause|resume|cancel` starts a campaign run and follows it;
`baton figures JOURNEY` prints a journey's figures (the funnel by step, channels, variants);
`baton trace TEXT_OR_ID` says where a message came from (journey, template, trigger, owners);
`baton import FILE` imports a CSV or JSON-lines file of contacts into a running `baton local`;
`baton rules` lists the rulebook's rules with where they are enforced and their tests."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from pydantic import EmailStr, TypeAdapter, ValidationError

from baton import logs
from baton.clock import process_clock
from baton.do_not_contact.models import BR_NAO_ME_PERTURBE, MAX_NUMBERS
from baton.imports.models import MAX_ROWS, ImportFormat
from baton.journeys.approvals import APPROVALS_FILE, ApprovalsError, read_approvals
from baton.journeys.catalog import (
    DEFAULT_LOCALES,
    DEFAULT_SMS_MAX_PARTS,
    TEMPLATES_DIR,
    CatalogReport,
    check_catalog,
    load_catalog,
)
from baton.journeys.paths import journey_path
from baton.journeys.schema import write_schemas
from infra import campaign, dnc, figures, imports, inventory, trace
from infra.config import CONTEXT_KEY, BatonConfig
from infra.http_client import LocalClient

ROOT = Path(__file__).resolve().parent.parent
# `make setup` installs Node 22 here when the system Node is older; jsii (synth) needs a Node.
_PROJECT_NODE = ROOT / ".tools" / "node22" / "node_modules" / ".bin"


def _prefer_project_node() -> None:
    if (_PROJECT_NODE / "node").exists() and str(_PROJECT_NODE) not in os.environ.get("PATH", ""):
        os.environ["PATH"] = f"{_PROJECT_NODE}{os.pathsep}{os.environ.get('PATH', '')}"


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _local(args: argparse.Namespace) -> int:
    # Imported here: `baton validate` and `baton schema` must not load moto and the local stack.
    from infra.local.stack import DEFAULT_PORT, LocalStack

    port = args.port if args.port is not None else DEFAULT_PORT
    if args.template is not None:
        template = json.loads(args.template.read_text(encoding="utf-8"))
        stack = LocalStack(template)
    else:
        _prefer_project_node()
        print("Synthesizing the CDK app ...", flush=True)
        stack = LocalStack(outdir=ROOT / "cdk.out")
    try:
        base_url, token = stack.start(port=port)
    except OSError as exc:
        print(f"baton local: cannot listen on 127.0.0.1:{port}: {exc.strerror}", file=sys.stderr)
        return 1
    times = stack.times
    took = (f"synth {times.synth_s:.1f} s, " if times and times.synth_s is not None else "") + (
        f"deploy {times.deploy_s:.1f} s" if times else ""
    )
    print(
        f"Baton local API on {base_url} ({took})\n"
        f"Private routes need:  Authorization: Bearer {token}\n"
        f"  curl -H 'Authorization: Bearer {token}' {base_url}/v1/contacts/c-1\n"
        f"Outbox: {base_url}/_local/outbox   Inbound SMS: POST {base_url}/_local/sms-inbound\n"
        "Ctrl-C to stop.",
        flush=True,
    )
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        stack.wait()
    except KeyboardInterrupt:
        print("\nStopping.", flush=True)
    finally:
        stack.stop()
    return 0


def _demo(args: argparse.Namespace) -> int:
    from infra.demo import START, DemoFailed, run_demo
    from infra.local.clock import VirtualClock
    from infra.local.stack import LocalStack

    _prefer_project_node()
    # The handlers' structured logs and metrics would bury the story: keep warnings only.
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    # moto logs every Fail state a journey reaches at ERROR; the demo prints the outcome itself.
    logging.getLogger("moto").setLevel(logging.CRITICAL)
    print("Synthesizing the CDK app and deploying it into the embedded AWS ...", flush=True)
    stack = LocalStack(outdir=ROOT / "cdk.out", clock=VirtualClock(START))
    base_url, token = stack.start(port=args.port)
    print(f"Local API on {base_url}", flush=True)
    try:
        run_demo(base_url, token)
    except DemoFailed as exc:
        print(f"\nDemo failed: {exc}", file=sys.stderr)
        return 1
    finally:
        stack.stop()
    return 0


def _validate(args: argparse.Namespace) -> int:
    config, settings = read_config(args.config) if args.config is not None else (None, [])
    # The deployment's declared languages: every template must have each (else English only).
    locales = config.locales if config is not None else DEFAULT_LOCALES
    transactional = config.approvals.transactional if config is not None else False
    report = check_catalog(
        args.path, sms_max_parts=args.sms_max_parts, locales=locales, approve_transactional=transactional
    )
    print(format_report(report, sms_max_parts=args.sms_max_parts, settings=settings), flush=True)
    return 0 if report.ok and not settings else 1


def _approve(args: argparse.Namespace) -> int:
    """Record `--by`'s approval of every locale and channel of the template as it is now,
    replacing the template's earlier entries; print what was recorded."""
    try:
        by = TypeAdapter(EmailStr).validate_python(args.by)
    except ValidationError:
        print(f"baton approve: --by {args.by!r} is not an email address: name the approver", file=sys.stderr)
        return 2
    root: Path = args.path
    file = root / APPROVALS_FILE
    template_file = root / TEMPLATES_DIR / f"{args.template}.yaml"
    report = check_catalog(root, require_approval=False)
    template = report.catalog.templates.get(args.template)
    if template is None:
        own = [issue for issue in report.issues if Path(issue.file) == template_file]
        if template_file.is_file() and own:
            print(f"baton approve: {template_file} has issues: fix them, then approve", file=sys.stderr)
            print("\n".join(str(issue) for issue in own), file=sys.stderr)
        else:
            known = ", ".join(sorted(report.catalog.templates)) or "none"
            print(
                f"baton approve: no template {args.template!r} in {root / TEMPLATES_DIR} (known: {known})",
                file=sys.stderr,
            )
        return 1
    try:
        approvals = read_approvals(file)
    except ApprovalsError as exc:
        print(f"baton approve: {file} does not read: fix it first", file=sys.stderr)
        print("\n".join(str(issue) for issue in exc.issues), file=sys.stderr)
        return 1
    approvals = approvals.approve(template, by, process_clock().now())
    file.write_text(approvals.dump(), encoding="utf-8")
    lines = [f"Approved {template.template} by {by}, recorded in {file}:"]
    for verdict in approvals.review(template):
        at = verdict.approval.line() if verdict.approval is not None else ""
        lines.append(f"  {verdict.locale} {verdict.channel}: {at}")
    lines.append("Commit it with the template: the pull request is the review on record.")
    print("\n".join(lines), flush=True)
    return 0


def read_config(path: Path) -> tuple[BatonConfig | None, list[str]]:
    """cdk.json's `baton` settings as synth would check them: the config, or each issue as
    `cdk.json: key: message`.

    Synth would fail on the same values; this says so before a deploy is tried, with the send
    rules (quiet hours, calling windows, caps, link lifetimes, keywords) held to the rulebook.
    """
    try:
        context = json.loads(path.read_text(encoding="utf-8")).get("context", {})
    except (OSError, ValueError, AttributeError) as exc:
        return None, [f"{path}: not a readable cdk.json ({exc.__class__.__name__})"]
    try:
        return BatonConfig.model_validate(context.get(CONTEXT_KEY, {})), []
    except ValidationError as exc:
        return None, [issue for error in exc.errors() for issue in _config_issues_of(path, error)]


def _config_issues_of(path: Path, error: Any) -> list[str]:
    message = str(error["msg"]).removeprefix("Value error, ")
    if not error["loc"]:  # the rulebook check: each line of its message names its own key
        return [f"{path}: {line}" for line in message.splitlines()]
    location = ".".join(str(part) for part in (CONTEXT_KEY, *error["loc"]))
    return [f"{path}: {location}: {message}"]


def format_report(report: CatalogReport, *, sms_max_parts: int, settings: Sequence[str] = ()) -> str:
    """Each issue as `file:line: key: message` (the settings' first), then what was read and
    what each SMS costs, then the count of issues."""
    catalog = report.catalog
    lines = [*settings, *(str(issue) for issue in report.issues)]
    lines.append(
        f"{_count(len(catalog.journeys), 'journey')}, {_count(len(catalog.templates), 'template')}, "
        f"{_count(len(catalog.segments), 'segment')} valid in {catalog.root}"
    )
    if catalog.journeys:
        lines.append("Runs over an audience (a campaign or a schedule):")
        lines.extend(
            f"  {journey_id}: {journey_path(journey).why}"
            for journey_id, journey in sorted(catalog.journeys.items())
        )
    if report.sms:
        lines.append(f"SMS (R-SMS-1, limit {sms_max_parts} parts; variables at typical lengths):")
        lines.extend(f"  {estimate}" for estimate in report.sms)
    issues = len(report.issues) + len(settings)
    lines.append(f"{_count(issues, 'issue')}." if issues else "No issues.")
    return "\n".join(lines)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _schema(args: argparse.Namespace) -> int:
    for path in write_schemas(args.out):
        print(f"wrote {path}", flush=True)
    return 0


def _dnc(args: argparse.Namespace) -> int:
    client = LocalClient(args.url, args.token or os.environ.get("BATON_LOCAL_TOKEN"))
    if args.action == "load":
        return dnc.load_file(client, args.list, args.file)
    return dnc.show_status(client, args.list)


def _add_dnc(commands: Any) -> None:
    parser = commands.add_parser(
        "dnc",
        help="load a do-not-contact list (R-BR-1) into a running `baton local`, or show its status",
        description=(
            "Load a do-not-contact list through the private API: the file is sent in parts of"
            f" {MAX_NUMBERS} numbers, and its numbers replace the list in force once all are stored."
        ),
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    load = actions.add_parser(
        "load", help="load FILE: one number per line, or a CSV whose first column is the number"
    )
    load.add_argument("file", type=Path, help="the list file (UTF-8; a header row is skipped)")
    status = actions.add_parser("status", help="the generation in force: when loaded, how many numbers")
    for action in (load, status):
        action.add_argument(
            "--list",
            default=BR_NAO_ME_PERTURBE.name,
            help=f"the list (default {BR_NAO_ME_PERTURBE.name}, Brazil's Não Me Perturbe)",
        )
        action.add_argument("--url", default="http://127.0.0.1:3000", help="the API (default the local one)")
        action.add_argument(
            "--token", help="the bearer token `baton local` printed (default $BATON_LOCAL_TOKEN)"
        )
    parser.set_defaults(run=_dnc)


def _campaign(args: argparse.Namespace) -> int:
    client = LocalClient(args.url, args.token or os.environ.get("BATON_LOCAL_TOKEN"))

    def write(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    if args.action == "start":
        run_id = campaign.start(client, args.journey, args.segment, args.at)
        if run_id is None:
            return 1
        if not args.follow:
            return 0
        return campaign.follow(client, run_id, tty=sys.stdout.isatty(), write=write)
    if args.action == "status":
        return campaign.follow(client, args.run_id, tty=sys.stdout.isatty(), write=write, once=args.once)
    return campaign.steer(client, args.run_id, args.action)


def _add_campaign(commands: Any) -> None:
    parser = commands.add_parser(
        "campaign",
        help="start a campaign run (a journey sent to a segment) and follow it, pause, resume or cancel it",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    start = actions.add_parser("start", help="start JOURNEY for the contacts of --segment, now or --at")
    start.add_argument("journey", help="the journey id")
    start.add_argument("--segment", required=True, help="the segment id")
    start.add_argument("--at", help="when to take the audience (ISO 8601, e.g. 2027-01-04T09:00:00Z)")
    start.add_argument("--follow", action="store_true", help="then follow the run until it ends")
    status = actions.add_parser("status", help="the run's figures, updated until it ends")
    status.add_argument("--once", action="store_true", help="print the figures once and return")
    commands_with_run = [status]
    for action in ("pause", "resume", "cancel"):
        commands_with_run.append(actions.add_parser(action, help=f"{action} the run"))
    for action in commands_with_run:
        action.add_argument("run_id", metavar="RUN", help="the run id `baton campaign start` printed")
    for action in (start, *commands_with_run):
        action.add_argument("--url", default="http://127.0.0.1:3000", help="the API (default the local one)")
        action.add_argument(
            "--token", help="the bearer token `baton local` printed (default $BATON_LOCAL_TOKEN)"
        )
    parser.set_defaults(run=_campaign)


def _add_answer_options(parser: argparse.ArgumentParser) -> None:
    """What every command that reads one private route takes: JSON as it is, the API, its token."""
    parser.add_argument("--json", action="store_true", help="print the route's JSON as it is")
    parser.add_argument("--url", default="http://127.0.0.1:3000", help="the API (default the local one)")
    parser.add_argument("--token", help="the bearer token `baton local` printed (default $BATON_LOCAL_TOKEN)")


def _figures(args: argparse.Namespace) -> int:
    client = LocalClient(args.url, args.token or os.environ.get("BATON_LOCAL_TOKEN"))
    return figures.show(client, args.journey, args.first, args.last, as_json=args.json)


def _add_figures(commands: Any) -> None:
    parser = commands.add_parser(
        "figures", help="a journey's figures: the funnel by step, channels, variants against the holdout"
    )
    parser.add_argument("journey", help="the journey id")
    parser.add_argument("--from", dest="first", help="the first UTC day, YYYY-MM-DD (default 30 days ago)")
    parser.add_argument("--to", dest="last", help="the last UTC day, YYYY-MM-DD (default today)")
    _add_answer_options(parser)
    parser.set_defaults(run=_figures)


def _inventory(args: argparse.Namespace) -> int:
    client = LocalClient(args.url, args.token or os.environ.get("BATON_LOCAL_TOKEN"))
    catalog = load_catalog(args.journeys) if args.format == "markdown" else None
    return inventory.show(client, args.format, stale=args.stale, catalog=catalog)


def _diagram(args: argparse.Namespace) -> int:
    return inventory.diagram(args.journeys, args.journey)


def _add_inventory(commands: Any) -> None:
    parser = commands.add_parser(
        "inventory", help="every automated message: owner, review date, last sent, volume, statuses"
    )
    parser.add_argument("--format", choices=inventory.FORMATS, default="table", help="default table")
    parser.add_argument("--stale", action="store_true", help="only what to review or retire")
    parser.add_argument(
        "--journeys",
        type=Path,
        default=Path("journeys"),
        help="the catalog the markdown diagrams are drawn from",
    )
    parser.add_argument("--url", default="http://127.0.0.1:3000", help="the API (default the local one)")
    parser.add_argument("--token", help="the bearer token `baton local` printed (default $BATON_LOCAL_TOKEN)")
    parser.set_defaults(run=_inventory)
    diagram = commands.add_parser("diagram", help="a journey as a Mermaid flowchart")
    diagram.add_argument("journey", help="the journey id")
    diagram.add_argument("--journeys", type=Path, default=Path("journeys"), help="the catalog folder")
    diagram.set_defaults(run=_diagram)


def _trace(args: argparse.Namespace) -> int:
    client = LocalClient(args.url, args.token or os.environ.get("BATON_LOCAL_TOKEN"))
    return trace.show(client, args.text_or_id, as_json=args.json)


def _add_trace(commands: Any) -> None:
    parser = commands.add_parser(
        "trace", help="where a message came from: by its id (Baton's or the provider's) or its text"
    )
    parser.add_argument("text_or_id", help="a message id, or the text (or part of it) a person received")
    _add_answer_options(parser)
    parser.set_defaults(run=_trace)


def _import(args: argparse.Namespace) -> int:
    client = LocalClient(args.url, args.token or os.environ.get("BATON_LOCAL_TOKEN"))
    return imports.import_file(client, args.file, args.format, terminal=sys.stderr)


def _add_import(commands: Any) -> None:
    parser = commands.add_parser(
        "import",
        help="import a CSV or JSON-lines file of contacts (with their consent) into a running `baton local`",
        description=(
            f"Import contacts through POST {imports.IMPORT_PATH}: the file is sent in parts of at most"
            f" {MAX_ROWS:,} rows, each imported whole or not at all. A refused value is shown by its"
            " line in the file and its field, and the import stops (exit 1) with nothing of that part"
            " written."
        ),
    )
    parser.add_argument("file", type=Path, help="the file (UTF-8): a CSV with a header row, or JSON lines")
    parser.add_argument(
        "--format",
        choices=[kind.value for kind in ImportFormat],
        help="default: from the name (.csv, .jsonl)",
    )
    parser.add_argument(
        "--url",
        default=os.environ.get("BATON_API_URL", "http://127.0.0.1:3000"),
        help="the API (default $BATON_API_URL, else the local one)",
    )
    parser.add_argument("--token", help="the bearer token `baton local` printed (default $BATON_LOCAL_TOKEN)")
    parser.set_defaults(run=_import)


def _rules(args: argparse.Namespace) -> int:
    from infra import rules

    if args.readme is not None:
        args.readme.write_text(rules.with_table(args.readme.read_text(encoding="utf-8")), encoding="utf-8")
        print(f"wrote the rules table into {args.readme}")
        return 0
    print(rules.as_json() if args.json else rules.as_markdown() if args.markdown else rules.as_text(), end="")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="baton", description="Baton: consent-first customer messaging on AWS."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    local = commands.add_parser(
        "local",
        help="serve the API over the embedded AWS until stopped",
        description="Synthesize the CDK app, deploy it into moto in this process and serve the API.",
    )
    local.add_argument(
        "--port", type=int, default=None, help="port on 127.0.0.1 (default 3000, the contract's)"
    )
    local.add_argument(
        "--template",
        type=Path,
        help="deploy this synthesized template (e.g. cdk.out/Baton.template.json) instead of synthesizing",
    )
    local.add_argument("-v", "--verbose", action="store_true", help="log every request and invocation")
    local.set_defaults(run=_local)
    demo = commands.add_parser(
        "demo",
        help="run the sample scenario over HTTP on the embedded AWS",
        description="Start the local stack on a free port and run the sample scenario against it.",
    )
    demo.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free port)")
    demo.set_defaults(run=_demo)
    validate = commands.add_parser(
        "validate",
        help="check every journey, template and segment; exit 1 on any issue",
        description="Check the journeys folder: each issue as file:line: key: message, then a summary.",
    )
    validate.add_argument(
        "path",
        type=Path,
        nargs="?",
        default=Path("journeys"),
        help="the journeys folder (default ./journeys)",
    )
    validate.add_argument(
        "--sms-max-parts",
        type=int,
        default=DEFAULT_SMS_MAX_PARTS,
        help=f"the most parts an SMS template may take (R-SMS-1, default {DEFAULT_SMS_MAX_PARTS})",
    )
    validate.add_argument(
        "--config",
        type=Path,
        default=Path("cdk.json") if Path("cdk.json").is_file() else None,
        help="the cdk.json whose `baton` settings to check too (default ./cdk.json when there is one)",
    )
    validate.set_defaults(run=_validate)
    approve = commands.add_parser(
        "approve",
        help="record legal approval of a template's content as it is now (journeys/approvals.yaml)",
        description=(
            "Record, for every locale and channel of TEMPLATE, who approved it, when (UTC) and the hash of"
            f" its content, in {APPROVALS_FILE} (the template's earlier entries are replaced). Content"
            " edited later fails `baton validate` and synth, and is not sent, until approved again."
        ),
    )
    approve.add_argument("template", help="the template id (its file name in journeys/templates/)")
    approve.add_argument("--by", required=True, help="the approver's email address, e.g. legal@example.com")
    approve.add_argument(
        "--path", type=Path, default=Path("journeys"), help="the journeys folder (default ./journeys)"
    )
    approve.set_defaults(run=_approve)
    schema = commands.add_parser(
        "schema",
        help="write the JSON Schema of journey, template and segment files",
        description="Write journey/template/segment.schema.json (draft 2020-12) generated from the models.",
    )
    schema.add_argument(
        "--out",
        type=Path,
        default=Path("journeys/schema"),
        help="the folder to write into (default journeys/schema)",
    )
    schema.set_defaults(run=_schema)
    _add_dnc(commands)
    _add_campaign(commands)
    _add_figures(commands)
    _add_inventory(commands)
    _add_trace(commands)
    _add_import(commands)
    rules = commands.add_parser(
        "rules",
        help="list every rule of the rulebook: where it is enforced, its tests, its status",
        description="The rule registry: each rule id, its jurisdictions, where Baton enforces it, the tests"
        " named by its id, and what is left to the operator. `make rules-check` proves the tests can fail.",
    )
    shown = rules.add_mutually_exclusive_group()
    shown.add_argument("--json", action="store_true", help="the registry as JSON, breaks included")
    shown.add_argument("--markdown", action="store_true", help="the README's table")
    shown.add_argument("--readme", type=Path, help="write the table into this README, between its markers")
    rules.set_defaults(run=_rules)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if getattr(args, "verbose", False) else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logs.install()
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
