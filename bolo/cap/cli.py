"""`bolo cap ...`: validate, convert, sign, verify and (dry-run) import CAP messages.

Exit codes: 0 success, 1 a message is invalid, refused or unverified, 2 a usage error. Errors go to
stderr as one line; no traceback reaches the user.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from bolo.cap.codec import encode
from bolo.cap.edxl import unwrap
from bolo.cap.errors import CapRefused, SignatureError
from bolo.cap.fetch import Fetched, FetchError, fetch, fetch_cap
from bolo.cap.findings import Finding, Level
from bolo.cap.imports import ImportPlan, ImportStore, decide, import_message
from bolo.cap.jsonconv import alert_to_json
from bolo.cap.profiles import Profile
from bolo.cap.signing import embedded_certificate, load_certificate, sign, verify
from bolo.cap.subscribe import MAX_FEED_BYTES, Outcome, Subscription
from bolo.cap.validate import ValidationResult, validate
from bolo.cap.xmlsafe import DEFAULT_MAX_BYTES

_import_store: Callable[[], ImportStore] | None = None


def register_import_store(factory: Callable[[], ImportStore]) -> None:
    """Let `bolo cap import` store what it imports (the application registers its store here);
    without one the command is a dry run."""
    global _import_store
    _import_store = factory


app = typer.Typer(help="CAP 1.2: validate, convert, sign, verify, import.", no_args_is_help=True)


class Target(StrEnum):
    """Output formats of `bolo cap convert`."""

    JSON = "json"
    XML = "xml"


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def _read(path: str, max_bytes: int) -> bytes:
    """Read a file (or stdin for `-`) without reading more than `max_bytes` + 1 bytes."""
    if path == "-":
        return sys.stdin.buffer.read(max_bytes + 1)
    with open(path, "rb") as handle:
        return handle.read(max_bytes + 1)


def _report(path: str, result: ValidationResult) -> None:
    """`FILE: OK`, `FILE: WARN (n)` or `FILE: INVALID (n errors, m warnings)`, then one indented
    line per finding: `error|warning path: message [rule]`."""
    errors, warnings = len(result.errors), len(result.warnings)
    if not result.ok:
        head = (
            f"INVALID ({errors} error{'s' * (errors != 1)}, {warnings} warning"
            f"{'s' * (warnings != 1)})"
        )
    else:
        head = f"WARN ({warnings} warning{'s' * (warnings != 1)})" if warnings else "OK"
    typer.echo(f"{path}: {head}")
    for finding in result.findings:
        typer.echo(f"  {finding.level} {finding} [{finding.rule}]")


def _unreadable(exc: OSError) -> ValidationResult:
    reason = f"cannot read: {exc.strerror or exc}"
    return ValidationResult(findings=[Finding(Level.ERROR, "", "unreadable", reason)])


@app.command("validate")
def validate_command(
    files: Annotated[list[str], typer.Argument(help="CAP files ('-' for stdin)")],
    profile: Annotated[Profile | None, typer.Option(help="extra rules: ipaws or google")] = None,
    max_bytes: Annotated[int, typer.Option(min=1, help="size limit in bytes")] = DEFAULT_MAX_BYTES,
    strict: Annotated[bool, typer.Option(help="treat warnings as errors")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print findings as JSON")] = False,
) -> None:
    """Report each file's errors and warnings. Exit 0 when all are valid (warnings allowed),
    1 when any has an error, 2 when any cannot be read."""
    code = 0
    reports = []
    for path in files:
        try:
            result = validate(_read(path, max_bytes), profile=profile, max_bytes=max_bytes)
        except OSError as exc:
            result, code = _unreadable(exc), 2
        if strict:
            result = result.strict()
        if not result.ok:
            code = max(code, 1)
        if as_json:
            reports.append({"file": path, **result.as_json()})
        else:
            _report(path, result)
    if as_json:
        typer.echo(json.dumps(reports[0] if len(reports) == 1 else reports, indent=2))
    raise typer.Exit(code)


@app.command("convert")
def convert_command(
    file: Annotated[str, typer.Argument(help="a CAP 1.0-1.2 file ('-' for stdin)")],
    to: Annotated[Target, typer.Option("--to", help="json, or xml (re-encoded as CAP 1.2)")],
) -> None:
    """Convert a valid CAP message to JSON, or re-encode it as CAP 1.2 XML."""
    try:
        data = _read(file, DEFAULT_MAX_BYTES)
    except OSError as exc:
        raise _fail(f"{file}: cannot read: {exc.strerror or exc}") from None
    result = validate(data)
    if result.alert is None or not result.ok:
        raise _fail(f"{file}: INVALID: " + "; ".join(result.errors))
    if to is Target.JSON:
        typer.echo(alert_to_json(result.alert))
    else:
        sys.stdout.buffer.write(encode(result.alert) + b"\n")


@app.command("sign")
def sign_command(
    file: Annotated[Path, typer.Argument(help="the CAP message to sign")],
    key: Annotated[Path, typer.Option(help="PEM private key (RSA or EC)")],
    cert: Annotated[Path, typer.Option(help="PEM certificate of the key")],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="default: stdout")] = None,
) -> None:
    """Sign a CAP message (enveloped XML-DSig, exclusive c14n, SHA-256)."""
    try:
        signed = sign(file.read_bytes(), key_pem=key.read_bytes(), cert_pem=cert.read_bytes())
    except OSError as exc:
        raise _fail(f"cannot read: {exc.strerror or exc}") from None
    except CapRefused as exc:
        raise _fail(f"{file}: refused: {exc.reason}") from None
    except (ValueError, TypeError) as exc:
        raise _fail(f"cannot sign: {exc}") from None
    if output is None:
        sys.stdout.buffer.write(signed + b"\n")
    else:
        output.write_bytes(signed)


@app.command("verify")
def verify_command(
    file: Annotated[Path, typer.Argument(help="the signed CAP message")],
    cert: Annotated[Path | None, typer.Option(help="pinned signer certificate (PEM/DER)")] = None,
    embedded: Annotated[
        bool,
        typer.Option(
            help="trust the certificate embedded in the message (inspection only: no trust)"
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Verify the signature against a pinned certificate; exit 1 when it does not verify."""
    if (cert is None) == (not embedded):
        raise _fail("give exactly one of --cert FILE or --embedded", 2)
    try:
        data = file.read_bytes()
        if cert is not None:
            pinned = load_certificate(cert.read_bytes())
        else:
            pinned = embedded_certificate(data)
        verified = verify(data, cert=pinned)
    except OSError as exc:
        raise _fail(f"cannot read: {exc.strerror or exc}") from None
    except (SignatureError, CapRefused) as exc:
        raise _fail(f"{file}: NOT VERIFIED: {exc.reason}") from None
    except ValueError as exc:
        raise _fail(f"unreadable certificate: {exc}") from None
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "file": str(file),
                    "verified": True,
                    "signer": str(verified.signer),
                    "not_after": verified.not_after.isoformat(),
                },
                indent=2,
            )
        )
        return
    typer.echo(
        f"{file}: VERIFIED: signed by {verified.signer}, certificate valid until "
        f"{verified.not_after:%Y-%m-%d}"
    )


@app.command("import")
def import_command(
    source: Annotated[str, typer.Argument(help="a CAP file, or an http(s) URL")],
    allow_private: Annotated[bool, typer.Option(help="allow private/loopback hosts")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the decision as JSON")] = False,
    max_bytes: Annotated[int, typer.Option(min=1, help="size limit in bytes")] = DEFAULT_MAX_BYTES,
) -> None:
    """Import another agency's CAP 1.0-1.2 message as a read-only external alert.

    De-duplicated by (sender, identifier, sent); an Update or Cancel is applied to the stored
    alerts it references. Without a registered store this is a dry run.
    """
    data = _load_cap(source, allow_private=allow_private, max_bytes=max_bytes)
    result = validate(data, max_bytes=max_bytes)
    if result.alert is None or not result.ok:
        raise _fail(f"{source}: INVALID: " + "; ".join(result.errors))
    if _import_store is None:
        plan, note = decide(result.alert, known=set()), "dry run against an empty store; "
    else:
        try:
            plan, note = import_message(result.alert, data, store=_import_store()), ""
        except CapRefused as exc:
            raise _fail(f"{source}: REFUSED: {exc.reason}") from None
    _print_decision(source, plan, note, result.version, as_json=as_json)


def _load_cap(source: str, *, allow_private: bool, max_bytes: int) -> bytes:
    """The CAP alert at `source` (a file, `-` or an http(s) URL), unwrapped from any EDXL-DE
    envelope; exits 1 with one line on stderr when it cannot be fetched, read or unwrapped."""
    try:
        if source.startswith(("http://", "https://")):
            data = fetch_cap(source, allow_private=allow_private, max_bytes=max_bytes)
        else:
            data = _read(source, max_bytes)
        return unwrap(data, max_bytes=max_bytes)  # what is stored is the CAP alert itself
    except FetchError as exc:
        raise _fail(f"{source}: cannot fetch: {exc}") from None
    except OSError as exc:
        raise _fail(f"{source}: cannot read: {exc.strerror or exc}") from None
    except CapRefused as exc:
        raise _fail(f"{source}: INVALID: {exc.reason}") from None


def _print_decision(
    source: str, plan: ImportPlan, note: str, version: str | None, *, as_json: bool
) -> None:
    """Print what `bolo cap import` decided: one line, or (`as_json`) a JSON object with the
    decision, the CAP version, whether it was a dry run and the referenced alerts."""
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "source": source,
                    "decision": str(plan.decision),
                    "cap_version": version,
                    "dry_run": _import_store is None,
                    "targets": [
                        {"sender": s, "identifier": i, "sent": t.isoformat()}
                        for s, i, t in plan.targets
                    ],
                },
                indent=2,
            )
        )
        return
    targets = ", ".join(f"{s},{i},{t.isoformat()}" for s, i, t in plan.targets)
    suffix = f" -> {targets}" if targets else ""
    typer.echo(f"{source}: {plan.decision}{suffix} ({note}CAP {version})")


def _print_outcomes(outcomes: list[Outcome] | None) -> int:
    """Print one line per message; return how many were refused."""
    if outcomes is None:
        typer.echo("feed unchanged (304)")
        return 0
    for o in outcomes:
        who = f" {o.sender},{o.identifier}" if o.identifier else ""
        why = f": {o.reason}" if o.reason else ""
        typer.echo(f"{o.source}: {o.decision.upper()}{who}{why}")
    return sum(o.decision == "refused" for o in outcomes)


def _save(path: Path, state: dict[str, object]) -> None:
    """Write `state` whole or not at all (a temporary file renamed over the old one)."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(state))
    temporary.replace(path)


@app.command("subscribe")
def subscribe_command(
    url: Annotated[str, typer.Argument(help="an Atom or RSS feed of CAP messages (http/https)")],
    signer: Annotated[
        Path | None,
        typer.Option(
            help="pinned signer certificate (PEM/DER): only messages it signed are imported"
        ),
    ] = None,
    interval: Annotated[float, typer.Option(min=1.0, help="seconds between polls")] = 60.0,
    once: Annotated[bool, typer.Option(help="poll once and exit")] = False,
    allow_private: Annotated[bool, typer.Option(help="allow private/loopback hosts")] = False,
    state: Annotated[
        Path | None,
        typer.Option(
            help="JSON file keeping the feed's ETag, Last-Modified and handled entries between runs"
        ),
    ] = None,
    timeout: Annotated[
        float,
        typer.Option(
            min=0.1,
            help="seconds allowed for each connect and read (an answer: at most twice that)",
        ),
    ] = 10.0,
) -> None:
    """Follow another agency's CAP feed: conditional GET (ETag, Last-Modified), backoff after
    failures, each new message validated (and its signature checked when --signer is given),
    imported as an external alert, Updates and Cancels applied by their references.

    With --once: exit 0 when the poll worked, 1 when the feed failed or a message was refused.
    """
    if _import_store is None:
        raise _fail("no import store is registered: run through the bolo command", 2)
    try:
        pinned = load_certificate(signer.read_bytes()) if signer is not None else None
    except (OSError, ValueError) as exc:
        raise _fail(f"unreadable signer certificate: {exc}", 2) from None
    subscription = Subscription(url=url, signer=pinned, interval_s=interval)
    if state is not None and state.is_file():
        try:
            subscription.restore(json.loads(state.read_text()))
        except (OSError, ValueError) as exc:
            raise _fail(f"unreadable state file {state}: {exc}", 2) from None
    store = _import_store()

    def fetcher(target: str, etag: str | None, modified: str | None) -> Fetched:
        accept = "application/atom+xml, application/rss+xml, application/cap+xml, */*;q=0.5"
        # The feed's size cap for every answer; a message over 1 MiB is refused by validate.
        return fetch(
            target,
            allow_private=allow_private,
            etag=etag,
            last_modified=modified,
            accept=accept,
            max_bytes=MAX_FEED_BYTES,
            timeout_s=timeout,
        )

    while True:
        try:
            refused = _print_outcomes(subscription.poll(fetcher, store))
            if state is not None:
                _save(state, subscription.state())
        except OSError as exc:  # the state file's folder vanished or is read-only
            raise _fail(f"cannot write state file {state}: {exc}", 2) from None
        except FetchError as exc:
            retry = "" if once else f" (retry in {subscription.next_delay():.0f} s)"
            typer.echo(f"{url}: cannot fetch: {exc}{retry}", err=True)
            if once:
                raise typer.Exit(1) from None
        else:
            if once:
                raise typer.Exit(1 if refused else 0)
        time.sleep(subscription.next_delay())
