"""Activation criteria: the AMBER-style gate an Actual alert passes before it goes for approval.

Which criteria apply is the operator's choice (``BOLO_ACTIVATION_CRITERIA``; empty turns the
gate off). Two are read from the case (the child's age, enough description to help); two are
judgements the submitting coordinator states (an abduction is believed to have happened, the
child is at risk of serious harm). An alert that misses any of them may still be submitted with a
written override reason, which the approver sees and the audit log keeps.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import Field

from bolo.cases.model import Case
from bolo.errors import InvalidInput
from bolo.schemas import Strict
from bolo.settings import get_settings


class Criterion(StrEnum):
    """One activation criterion (the names ``BOLO_ACTIVATION_CRITERIA`` lists)."""

    CHILD_AGE = "child_age"
    ABDUCTION = "abduction"
    RISK_OF_HARM = "risk_of_harm"
    DESCRIPTION = "description"


class Attestation(Strict):
    """What the submitting coordinator states about the case, and an override reason for an
    alert that misses a criterion."""

    abduction_believed: bool = Field(
        default=False, description="The child is believed to have been abducted."
    )
    risk_of_harm: bool = Field(
        default=False, description="The child is believed to be at risk of serious harm."
    )
    override_reason: str | None = Field(
        default=None,
        max_length=2000,
        description="Why the alert should go out although a criterion is not met.",
    )


@dataclass(frozen=True)
class Check:
    """One criterion and whether the case and the attestation meet it; ``missing`` says what
    to fix when it is not met."""

    criterion: Criterion
    met: bool
    missing: str
    field: str | None = None  # the Attestation field stating it (None: read from the case)


class ActivationRefused(InvalidInput):
    """The gate's refusal: ``fields`` are the Attestation fields (the API body's names) that
    would state the unmet judgements; ``override_min`` the override reason's least length."""

    def __init__(self, message: str, *, fields: list[str], override_min: int) -> None:
        super().__init__(message)
        self.fields = fields
        self.override_min = override_min

    def for_api(self) -> str:
        """The message with the request body's field names to send."""
        stated = ", ".join(f'"{f}": true' for f in self.fields)
        fix = f"{{{stated}}} or " if stated else ""
        return (
            f"{self.message}. In the request body: {fix}"
            f'{{"override_reason": "..."}} (at least {self.override_min} characters)'
        )

    def for_cli(self) -> str:
        """The message with the ``bolo alert submit`` options to pass (each Attestation field
        is the option of the same name: ``risk_of_harm`` is ``--risk-of-harm``)."""
        stated = " ".join("--" + f.replace("_", "-") for f in self.fields)
        fix = f"{stated} or " if stated else ""
        return (
            f"{self.message}. On the command line: {fix}"
            f'--override-reason "..." (at least {self.override_min} characters)'
        )


def _child_age(case: Case, limit: int) -> Check:
    ages = [c.get("age") for c in case.children]
    known = [a for a in ages if isinstance(a, int)]
    met = any(a < limit for a in known)
    missing = (
        f"no child is under {limit} (ages: {', '.join(map(str, known))})"
        if known
        else f"record the child's age (the criterion is a child under {limit})"
    )
    return Check(Criterion.CHILD_AGE, met, "" if met else missing)


def _description(case: Case) -> Check:
    child = any(
        str(c.get("description") or "").strip() or c.get("photo_url") for c in case.children
    )
    suspect = any(
        str(s.get("name") or "").strip() or str(s.get("description") or "").strip()
        for s in case.suspects
    )
    vehicle = any(str(v.get("description") or "").strip() for v in case.vehicles)
    lacks = ([] if child else ["a description or photo of the child"]) + (
        [] if suspect or vehicle else ["a suspect or a vehicle"]
    )
    return Check(
        Criterion.DESCRIPTION,
        not lacks,
        "" if not lacks else "the case needs " + " and ".join(lacks),
    )


def evaluate(case: Case, attestation: Attestation) -> list[Check]:
    """The configured criteria, each checked against the case and the attestation."""
    settings = get_settings()
    checks = {
        Criterion.CHILD_AGE: lambda: _child_age(case, settings.activation_age_limit),
        Criterion.DESCRIPTION: lambda: _description(case),
        Criterion.ABDUCTION: lambda: Check(
            Criterion.ABDUCTION,
            attestation.abduction_believed,
            "" if attestation.abduction_believed else "confirm that an abduction is believed",
            "abduction_believed",
        ),
        Criterion.RISK_OF_HARM: lambda: Check(
            Criterion.RISK_OF_HARM,
            attestation.risk_of_harm,
            "" if attestation.risk_of_harm else "confirm that the child is at risk of harm",
            "risk_of_harm",
        ),
    }
    return [checks[Criterion(c)]() for c in settings.activation_criteria_list()]


def gate(case: Case, attestation: Attestation) -> dict[str, Any]:
    """Pass the gate or refuse (ActivationRefused, naming every unmet criterion and the way out);
    returns the record kept with the version: the criteria, the statements, the override."""
    checks = evaluate(case, attestation)
    unmet = [c for c in checks if not c.met]
    reason = (attestation.override_reason or "").strip()
    minimum = get_settings().activation_override_min_length
    if unmet and len(reason) < minimum:
        told = "; ".join(c.missing for c in unmet)
        short = f" (the reason given has {len(reason)} characters)" if reason else ""
        raise ActivationRefused(
            f"this live alert does not meet the activation criteria: {told}. Fix the case, or "
            f"give an override reason of at least {minimum} characters{short}",
            fields=[c.field for c in unmet if c.field],
            override_min=minimum,
        )
    return {
        "criteria": {c.criterion.value: c.met for c in checks},
        "missing": [c.missing for c in unmet],
        "abduction_believed": attestation.abduction_believed,
        "risk_of_harm": attestation.risk_of_harm,
        "override_reason": reason if unmet else None,
    }
