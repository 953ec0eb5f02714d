"""The guides' examples (README.md and docs/*.md), run against one `crm run` on free ports.

The examples are the fenced blocks of the guides themselves, read at collection; which of them
run is decided by one rule, from the block alone:

- an ``sh`` block that addresses a service (``http://127.0.0.1:<port>``) is an example request:
  it runs with ``bash -euo pipefail`` at the top of the checkout, with the virtual
  environment's ``bin`` first on PATH (so ``crm`` and ``python`` resolve) and the documented
  ports (the services' defaults, 8001-8004) swapped for this run's;
- a ``json`` block is an example answer: the test sends the request the guide describes and
  compares the answer with the block (the block's ``...`` stands for fields it leaves out);
- every other block is not run: a block without a language illustrates (a header, a diagram,
  the layout), and an ``sh`` block that addresses no service is a set-up command (``make run``,
  ``make test``, ``docker compose``), for which this module starts ``crm run`` itself.

Each example has a check below, named by its guide, section and language, asserting what the
guide says happens; an example without one fails, and so does a check whose example is gone.
"""

import json
import os
import re
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from crm.registry import SERVICES as SERVICE_SPECS
from services.events.detector import in_control_group
from services.events.rule_admin import BUILTIN_RULES, read_rule_file
from shared.auth.roles import Role
from shared.auth.tokens import development_bearer
from tests.e2e.embedded import CRM, SERVICES, embedded_env, interrupt, start, wait_ready

ROOT = Path(__file__).resolve().parents[2]
GUIDES = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))
FENCE = re.compile(r"^(```+|~~~+)\s*(\S*)")
SERVICE_ADDRESS = "http://127.0.0.1:"
DOCUMENTED_PORTS = {name: SERVICE_SPECS[name].settings_class.default_port for name in SERVICES}


@dataclass(frozen=True)
class Block:
    guide: str
    line: int
    section: str
    language: str
    text: str
    lead: str  # the paragraph just before the block, which says what it shows

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.guide, self.section, self.language)

    def is_example(self) -> bool:
        requests = self.language == "sh" and SERVICE_ADDRESS in self.text
        return requests or self.language == "json"


def fenced_blocks(path: Path) -> Iterator[Block]:
    guide = str(path.relative_to(ROOT))
    section, fence, language, opened = "", "", "", 0
    paragraph: list[str] = []  # the last one, kept across the blank lines that follow it
    lines: list[str] = []
    ended = True
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if fence:
            if line.startswith(fence) and not line.strip(fence[0]).strip():
                text, lead = "\n".join(lines) + "\n", " ".join(paragraph)
                yield Block(guide, opened, section, language, text, lead)
                fence, paragraph = "", []
            else:
                lines.append(line)
        elif match := FENCE.match(line):
            fence, language, opened, lines = match.group(1), match.group(2), number, []
        elif line.startswith("#"):
            section, paragraph, ended = line.lstrip("#").strip(), [], True
        elif not line.strip():
            ended = True
        else:
            paragraph, ended = ([line] if ended else [*paragraph, line]), False


EXAMPLES = [block for path in GUIDES for block in fenced_blocks(path) if block.is_example()]


def _on_these_ports(text: str, ports: dict[str, int]) -> str:
    for name, documented in DOCUMENTED_PORTS.items():
        text = text.replace(f"{SERVICE_ADDRESS}{documented}", f"{SERVICE_ADDRESS}{ports[name]}")
    return text


@dataclass
class GuidesRun:
    """The running services, and the output of the examples run so far (some examples build
    on what an earlier one made, as a reader going through the guides would)."""

    ports: dict[str, int]
    outputs: dict[tuple[str, str, str], list[str]] = field(default_factory=dict)

    def url(self, service: str, path: str) -> str:
        return f"{SERVICE_ADDRESS}{self.ports[service]}{path}"

    def run(self, block: Block) -> str:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
        env["PATH"] = f"{CRM.parent}{os.pathsep}{env.get('PATH', '')}"
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", _on_these_ports(block.text, self.ports)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        where = f"{block.guide}:{block.line}"
        assert done.returncode == 0, f"{where}\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
        self.outputs.setdefault(block.key, []).append(done.stdout)
        return done.stdout

    def output_of(self, key: tuple[str, str, str], *, times: int = 1) -> list[str]:
        (block,) = [b for b in EXAMPLES if b.key == key]
        while len(self.outputs.get(key, [])) < times:
            self.run(block)
        return self.outputs[key][:times]


@pytest.fixture(scope="module")
def guides_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GuidesRun]:
    env, ports, pg_port = embedded_env()
    process = start(env, tmp_path_factory.mktemp("guides") / "postgres", pg_port)
    try:
        wait_ready(ports, process, timeout=120)
        yield GuidesRun(ports)
    finally:
        interrupt(process)


TRY_IT = ("README.md", "Try it", "sh")


def _try_it(block: Block, run: GuidesRun) -> None:
    """The walkthrough registers a customer, posts a large withdrawal and prints the detector's
    retention call; the README promises the commands can be run twice."""
    walked, again = run.output_of(block.key, times=2)
    # Output: the ingest's answer on one line, then the opportunities.
    posted, listed = walked.split("\n", 1)
    posted_again, listed_again = again.split("\n", 1)
    assert (json.loads(posted)["posted"], json.loads(posted_again)["duplicates"]) == (1, 1)
    opportunities = json.loads(listed)["items"]
    assert [(o["rule_id"], o["action"]) for o in opportunities] == [
        ("large_withdrawal", "retention_call")
    ]
    # Contacted, or held out when the customer falls in the rule's control group: which of the
    # two follows from the customer id, so a reader sees one or the other, never none.
    shipped = read_rule_file(BUILTIN_RULES)["large_withdrawal"]
    customer_id = opportunities[0]["customer_id"]
    held_out = in_control_group("large_withdrawal", customer_id, float(shipped.holdout_share))
    assert (opportunities[0]["control_group"], opportunities[0]["status"] == "held_out") == (
        held_out,
        held_out,
    )
    assert json.loads(listed_again)["items"] == opportunities


def _walked_customer(run: GuidesRun) -> str:
    (walked,) = run.output_of(TRY_IT)
    customer_id: str = json.loads(walked.split("\n", 1)[1])["items"][0]["customer_id"]
    return customer_id


def _lookup_by_phone(block: Block, run: GuidesRun) -> None:
    """A channel's token finds the walkthrough's customer by the phone number it gave."""
    customer_id = _walked_customer(run)
    answer = json.loads(run.run(block))
    assert [match["id"] for match in answer["matches"]] == [customer_id], answer


def _validation_problem(block: Block, run: GuidesRun) -> None:
    """The README's registration with the ID number the guide names (a wrong check digit): a
    422 problem with the type, title and detail the guide shows, naming the field."""
    documented = json.loads(re.sub(r",\s*\.\.\.\s*}", "}", block.text))
    (walkthrough,) = [b for b in EXAMPLES if b.key == TRY_IT]
    registration = walkthrough.text.split("/v1/customers \\", 1)[1].split(" -d '", 1)[1]
    body = json.loads(registration.split("'", 1)[0])
    (body["profile"]["id_number"],) = re.findall(r"`(\d{17}[\dX])`", block.lead)
    teller = development_bearer(Role.BRANCH_STAFF, subject="guide-teller", branch="BJ001")
    answer = httpx.post(run.url("customer", "/v1/customers"), json=body, headers=teller)
    problem = answer.json()
    assert answer.status_code == documented["status"], problem
    assert answer.headers["content-type"] == "application/problem+json"
    assert {name: problem.get(name) for name in documented} == documented
    assert [(e["field"], e["in"]) for e in problem["errors"]][:1] == [("profile.id_number", "body")]
    assert {"instance", "correlation_id"} <= set(problem)


CHECKS: dict[tuple[str, str, str], Callable[[Block, GuidesRun], None]] = {
    TRY_IT: _try_it,
    ("docs/channel-integration.md", "Authentication", "sh"): _lookup_by_phone,
    ("docs/channel-integration.md", "Errors", "json"): _validation_problem,
}


class TestGuideExamples:
    @pytest.mark.parametrize("block", EXAMPLES, ids=lambda b: f"{b.guide}:{b.section}:{b.language}")
    def test_the_example_does_what_its_guide_says(
        self, block: Block, guides_run: GuidesRun
    ) -> None:
        assert [b.line for b in EXAMPLES if b.key == block.key] == [block.line], (
            "two examples of one kind in one section: give one a section of its own"
        )
        assert block.key in CHECKS, f"{block.guide}:{block.line} has no check: add one to CHECKS"
        CHECKS[block.key](block, guides_run)

    def test_the_ports_the_readme_lists_are_the_ones_swapped(self) -> None:
        readme = (ROOT / "README.md").read_text(encoding="utf-8")
        listed = dict(re.findall(r"^\| `(\w+)` \| (\d+) \|", readme, flags=re.MULTILINE))
        assert {name: int(port) for name, port in listed.items()} == DOCUMENTED_PORTS

    def test_every_check_still_has_its_example(self) -> None:
        assert sorted(CHECKS) == sorted(block.key for block in EXAMPLES)
