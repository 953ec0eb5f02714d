"""Expand and contract: the schema of a release still serves the previous release's code.

During a rolling deploy the previous release's pods run against the new schema until the last
of them is replaced. So a revision written after the last recorded release (``deploy/
releases.toml``) may only *expand*: add tables, nullable columns, indexes. What would break the
code still running (dropping or renaming what it names, changing a column's type, making a
column it leaves out NOT NULL without a default) is a *contract* step. It ships only once no
running code uses what it removes, and says so with a module constant naming the release after
which the code stopped using it::

    CONTRACTS_AFTER_RELEASE = "0.1.0"

That release must be recorded, that is, at least one release back: the revision ships in a
later one. Separately, an index on one of the tables that grow with the bank's business is
built CONCURRENTLY, outside the revision's transaction, so that postings are not held off while
the table is scanned.

The check reads each revision's source with :mod:`ast` (the body of ``upgrade``, following calls
into ``shared.frozen_migrations``); nothing is imported or run.
"""

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory

from crm.registry import SERVICES
from tools.migrations.releases import ROOT, Release, recorded_releases

CONTRACT_MARK = "CONTRACTS_AFTER_RELEASE"
FROZEN_STEPS = ROOT / "shared" / "frozen_migrations.py"

# The tables that grow with every posting, event or request: a lock held while one of them is
# scanned stops the business it records.
LARGE_TABLES = frozenset(
    {
        "transactions",  # customer: every posted transaction
        "outbox",  # every service: every event it publishes
        "inbox",  # every service: every event it consumes
        "audit_log",  # every service: every change and every read of personal data
        "observed_events",  # events: the detector's history, kept for backtests (400 days)
    }
)

# Operations that take away what the previous release's code may name.
REMOVING = frozenset({"drop_table", "drop_column", "drop_constraint", "drop_index", "rename_table"})


@dataclass(frozen=True)
class Finding:
    where: str  # file:line
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


def frozen_steps(source: str | None = None) -> dict[str, ast.FunctionDef]:
    """The shared migration steps revisions call, by name."""
    tree = ast.parse(source if source is not None else FROZEN_STEPS.read_text())
    return {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}


def check_revision(
    source: str, *, filename: str, recorded: set[str], steps: dict[str, ast.FunctionDef]
) -> list[Finding]:
    """What in one revision's ``upgrade`` would not serve the previous release's code, or
    would hold a large table locked; ``recorded`` are the recorded releases' versions."""
    tree = ast.parse(source, filename=filename)
    findings: list[Finding] = []
    contracts_after = _contract_mark(tree)
    if contracts_after is not None and contracts_after not in recorded:
        findings.append(
            Finding(
                f"{filename}:1",
                f"{CONTRACT_MARK} = {contracts_after!r} is not a recorded release: a contract "
                "step ships only after the release whose code stopped using what it removes",
            )
        )
    upgrade = next(
        (n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "upgrade"), None
    )
    if upgrade is None:
        return [*findings, Finding(f"{filename}:1", "no upgrade() to read")]
    reader = _UpgradeReader(steps, _module_strings(tree))
    reader.read(upgrade.body)
    for line, what, contracts in reader.found:
        if contracts and contracts_after in recorded:
            continue
        findings.append(Finding(f"{filename}:{line}", what))
    return findings


def revisions_after(release: Release) -> Iterator[tuple[str, Path]]:
    """(service, file) of every revision written after ``release``."""
    for service, spec in SERVICES.items():
        scripts = ScriptDirectory(str(spec.migrations))
        head = release.heads[service]
        released = {s.revision for s in scripts.iterate_revisions(head, "base")}
        for script in scripts.walk_revisions():
            if script.revision not in released:
                yield service, Path(script.path)


def check_since_last_release() -> list[Finding]:
    releases = recorded_releases()
    recorded = {r.version for r in releases}
    steps = frozen_steps()
    return [
        finding
        for _, path in revisions_after(releases[-1])
        for finding in check_revision(
            path.read_text(),
            filename=str(path.relative_to(ROOT)),
            recorded=recorded,
            steps=steps,
        )
    ]


def _contract_mark(tree: ast.Module) -> str | None:
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        value = getattr(node, "value", None)
        if any(isinstance(t, ast.Name) and t.id == CONTRACT_MARK for t in targets):
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                return value.value
            return "(not a string literal)"
    return None


def _module_strings(tree: ast.Module) -> dict[str, str]:
    strings = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and (text := _literal(node.value)) is not None:
            strings.update({t.id: text for t in node.targets if isinstance(t, ast.Name)})
    return strings


class _UpgradeReader:
    """Walks ``upgrade``'s statements, knowing whether each runs in an autocommit block."""

    def __init__(self, steps: dict[str, ast.FunctionDef], strings: dict[str, str]) -> None:
        self.steps = steps
        self.strings = strings  # the module's string constants, as SQL is often kept in one
        self.found: list[tuple[int, str, bool]] = []  # line, what, whether a contract step
        self._autocommit = 0
        self._created: set[str] = set()  # tables this revision creates: empty, nothing waits
        self._step_call: ast.Call | None = None  # the revision's call of a shared step

    def read(self, statements: list[ast.stmt]) -> None:
        for statement in statements:
            self._statement(statement)

    def _statement(self, statement: ast.stmt) -> None:
        if isinstance(statement, ast.With):
            for item in statement.items:
                self._expression(item.context_expr)
            autocommit = any(_is_autocommit_block(i.context_expr) for i in statement.items)
            self._autocommit += autocommit
            self.read(statement.body)
            self._autocommit -= autocommit
            return
        for child in ast.iter_child_nodes(statement):
            if isinstance(child, ast.stmt):
                self._statement(child)
            elif isinstance(child, ast.expr):
                self._expression(child)

    def _expression(self, expression: ast.expr) -> None:
        for node in ast.walk(expression):
            if isinstance(node, ast.Call):
                self._call(node)

    def _call(self, call: ast.Call) -> None:
        name = _called_name(call)
        if name in self.steps and self._step_call is None:
            # A shared step: read its body as if written here, at the line that calls it.
            self._step_call = call
            self.read(self.steps[name].body)
            self._step_call = None
            return
        keywords = {k.arg: k.value for k in call.keywords if k.arg is not None}
        if name == "create_table" and (table := _literal(_argument(call, 0, "table_name"))):
            self._created.add(table)
        elif name in REMOVING:
            self._contract(call, f"{name} removes what the previous release may still use")
        elif name == "alter_column":
            self._alter_column(call, keywords)
        elif name == "add_column":
            column = _argument(call, 1, "column")
            if isinstance(column, ast.Call) and _refuses_old_inserts(column):
                self._contract(
                    call,
                    "a NOT NULL column without a server default: the previous release's "
                    "inserts leave it out and fail",
                )
        elif name in ("create_index", "create_unique_constraint"):
            self._index(call, name, keywords)
        elif name == "execute":
            self._sql(call)

    def _alter_column(self, call: ast.Call, keywords: dict[str, ast.expr]) -> None:
        if "new_column_name" in keywords:
            self._contract(call, "alter_column renames a column the previous release may use")
        if "type_" in keywords:
            self._contract(call, "alter_column changes a column's type")
        nullable = keywords.get("nullable")
        if _is_false(nullable) and "server_default" not in keywords:
            self._contract(
                call,
                "alter_column makes a column NOT NULL without a server default: the "
                "previous release's inserts that leave it out fail",
            )

    def _index(self, call: ast.Call, name: str, keywords: dict[str, ast.expr]) -> None:
        table = _literal(_argument(call, 1, "table_name"))
        if table not in LARGE_TABLES or table in self._created:
            return
        if name == "create_unique_constraint":
            self._lock(
                call,
                f"a unique constraint on {table} builds its index under lock: build a "
                "unique index CONCURRENTLY instead",
            )
        elif not _is_true(keywords.get("postgresql_concurrently")):
            self._lock(call, f"an index on {table} without postgresql_concurrently=True")
        elif not self._autocommit:
            self._lock(call, f"a concurrent index on {table} outside autocommit_block()")

    def _sql(self, call: ast.Call) -> None:
        argument = _argument(call, 0, "sqltext")
        if isinstance(argument, ast.Call) and _called_name(argument) == "text":
            argument = _argument(argument, 0, "text")
        sql = _literal(argument)
        if sql is None and isinstance(argument, ast.Name):
            sql = self.strings.get(argument.id)
        if sql is None:
            self._contract(call, "SQL that is not a string literal cannot be checked")
            return
        words = _words(sql)
        if "DROP" in words and not _only_drops_not_null(words):
            self._contract(call, "SQL that drops something")
        if "RENAME" in words:
            self._contract(call, "SQL that renames something")
        if _changes_a_type(words):
            self._contract(call, "SQL that changes a column's type")
        if "INDEX" in words and "CREATE" in words:
            table = words[words.index("ON") + 1].lower() if "ON" in words[:-1] else None
            table = table and table.rsplit(".", 1)[-1]
            if table in LARGE_TABLES and table not in self._created:
                if "CONCURRENTLY" not in words:
                    self._lock(call, f"CREATE INDEX on {table} without CONCURRENTLY")
                elif not self._autocommit:
                    self._lock(call, f"CREATE INDEX CONCURRENTLY on {table} outside autocommit")

    def _contract(self, node: ast.AST, what: str) -> None:
        self.found.append(
            (self._line(node), f"{what} (a contract step: mark it {CONTRACT_MARK})", True)
        )

    def _lock(self, node: ast.AST, what: str) -> None:
        self.found.append((self._line(node), what, False))

    def _line(self, node: ast.AST) -> int:
        return getattr(self._step_call or node, "lineno", 1)


def _called_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    if isinstance(call.func, ast.Name):
        return call.func.id
    return None


def _argument(call: ast.Call, position: int, keyword: str) -> ast.expr | None:
    if len(call.args) > position:
        return call.args[position]
    return next((k.value for k in call.keywords if k.arg == keyword), None)


def _literal(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _is_false(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


def _is_true(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def _is_autocommit_block(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and _called_name(node) == "autocommit_block"


def _refuses_old_inserts(column: ast.Call) -> bool:
    """Whether an added ``sa.Column(...)`` is NOT NULL with nothing the database fills it with."""
    keywords = {k.arg: k.value for k in column.keywords if k.arg is not None}
    if not _is_false(keywords.get("nullable")):
        return False
    filled = "server_default" in keywords or any(
        isinstance(a, ast.Call) and _called_name(a) in ("Identity", "Computed") for a in column.args
    )
    return not filled


def _words(sql: str) -> list[str]:
    """The SQL's words, upper-case, with its punctuation and -- comments left out."""
    lines = (line.split("--", 1)[0] for line in sql.splitlines())
    text = " ".join(lines)
    spaced = "".join(c if c.isalnum() or c in "_." else " " for c in text)
    return spaced.upper().split()


def _only_drops_not_null(words: list[str]) -> bool:
    """``DROP NOT NULL`` relaxes a column, which every release's code accepts."""
    drops = [i for i, w in enumerate(words) if w == "DROP"]
    return all(words[i + 1 : i + 3] == ["NOT", "NULL"] for i in drops)


def _changes_a_type(words: list[str]) -> bool:
    """``ALTER [COLUMN] c [SET DATA] TYPE t``; not ``ALTER TYPE`` of an enum, which adds."""
    for i, word in enumerate(words):
        if word != "TYPE" or i < 2:
            continue
        before = words[max(0, i - 4) : i]
        if before[-2:] == ["SET", "DATA"] or "ALTER" in before[-3:-1]:
            return True
    return False
