"""What a regulatory pack says about reporting, as data: its reporting periods, the code lists
a case is classified by, and the return forms that apply from which period on.

Plain data with no import of the service, so that ``deadlines`` can hang it on its packs."""

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class Dimension(StrEnum):
    """A way a regulator classifies a complaint; a pack uses the ones its returns need."""

    BUSINESS_CHANNEL = "business_channel"  # where the business complained of was done
    BUSINESS_TYPE = "business_type"
    CAUSE = "cause"
    REGION = "region"
    PRODUCT_GROUP = "product_group"
    PRODUCT = "product"
    SUB_PRODUCT = "sub_product"
    ISSUE = "issue"
    SUB_ISSUE = "sub_issue"


class PeriodKind(StrEnum):
    QUARTER = "quarter"  # 2026-Q1
    HALF_YEAR = "half_year"  # 2026-H1


class ReturnShape(StrEnum):
    NFRA_QUARTERLY = "nfra_quarterly"
    FCA_DISP_1_ANNEX_1R = "fca_disp_1_annex_1r"
    FCA_CONSOLIDATED = "fca_consolidated"
    CFPB = "cfpb"


@dataclass(frozen=True)
class Code:
    code: str
    label: str
    # The code of the wider class it belongs to (a sub-product's product), if any.
    parent: str | None = None


@dataclass(frozen=True)
class CodeList:
    codes: tuple[Code, ...]
    # What a case is counted under while nobody has classified it ("other", coded 99); None
    # for a finer list whose code may stay blank (a CFPB issue without a sub-issue).
    fallback: str | None
    # The dimension whose codes ``parent`` names; it is then derived, never given apart.
    parent_dimension: Dimension | None = None

    def __post_init__(self) -> None:
        assert self.fallback is None or self.fallback in self.by_code, "unknown fallback"

    @property
    def by_code(self) -> dict[str, Code]:
        return {code.code: code for code in self.codes}


@dataclass(frozen=True)
class ReturnForm:
    code: str
    name: str
    shape: ReturnShape
    first_period_start: date | None = None  # the form applies from this period on
    # Business days after the period's end by which the return is due; None: none published.
    due_business_days: int | None = None


@dataclass(frozen=True)
class ReportingRules:
    period: PeriodKind
    currency: str  # redress is reported in it
    codes: dict[Dimension, CodeList]
    # The dimensions a classification must give; the others are derived or optional.
    required: frozenset[Dimension]
    forms: tuple[ReturnForm, ...]  # oldest first
    # The bank's receiving channels as the regulator names them (the CFPB's "submitted via").
    submitted_via: dict[str, str] = field(default_factory=dict)

    def form_for(self, period_start: date) -> ReturnForm:
        applicable = [
            form
            for form in self.forms
            if form.first_period_start is None or form.first_period_start <= period_start
        ]
        return applicable[-1]

    def code_of(self, dimension: Dimension, codes: dict[str, str] | None) -> str | None:
        """The case's code in ``dimension``, derived from a finer one, or the fallback."""
        given = (codes or {}).get(dimension.value)
        if given is not None:
            return given
        for finer, code_list in self.codes.items():
            if code_list.parent_dimension is dimension and codes and finer.value in codes:
                parent = code_list.by_code[codes[finer.value]].parent
                if parent is not None:
                    return parent
        return self.codes[dimension].fallback

    def problems(self, codes: dict[str, str]) -> list[tuple[str, str]]:
        """(dimension, what is wrong) for a classification this pack cannot report."""
        found: list[tuple[str, str]] = []
        for name, code in codes.items():
            dimension = Dimension(name)
            code_list = self.codes.get(dimension)
            if code_list is None:
                found.append((name, f"is not reported in this pack; it uses {self._names()}"))
            elif code not in code_list.by_code:
                found.append((name, f"{code!r} is not one of {sorted(code_list.by_code)}"))
            elif code_list.parent_dimension is not None:
                parent = code_list.parent_dimension.value
                expected = code_list.by_code[code].parent
                if parent in codes and codes[parent] != expected:
                    found.append((name, f"{code!r} belongs to {parent} {expected!r}"))
        for dimension in sorted(self.required - {Dimension(n) for n in codes}):
            found.append((dimension.value, "is required in this pack"))
        return found

    def _names(self) -> list[str]:
        return sorted(d.value for d in self.codes)
