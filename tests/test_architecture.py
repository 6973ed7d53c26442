"""The layout's rules (docs/architecture.md), checked on the source: who may import whom, and who
may write ledger rows. The checker is tested on made-up sources too, so it cannot pass vacuously."""

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("fund", "cases", "donations")


@dataclass(frozen=True)
class Rule:
    """Modules under `importer` may not import anything under one of `forbidden`."""

    importer: str
    forbidden: tuple[str, ...]
    why: str


RULES = (
    Rule("fund", ("cases", "donations"), "fund is the core: it names apps by dotted strings only"),
    Rule("cases", ("donations",), "cases and donations never import each other"),
    Rule("donations", ("cases",), "cases and donations never import each other"),
    Rule(
        "fund.security",
        (
            "fund.ledger",
            "fund.public",
            "fund.reports",
            "fund.demo",
            # These import the ledger in turn.
            "fund.models",
            "fund.admin",
            "fund.api",
            "fund.urls",
            "fund.views",
        ),
        "the security kit stands below the ledger",
    ),
    Rule(
        "fund.ledger",
        ("fund.public", "fund.reports", "fund.demo"),
        "the ledger knows nothing of the pages and reports built on it",
    ),
    Rule(
        "fund.public",
        (
            "fund.ledger.services",
            "fund.ledger.posting",
            "fund.ledger.queries",
            "fund.ledger.views",
            "fund.ledger.api",
        ),
        "the public pages read through fund.ledger.progress only",
    ),
    Rule(
        "fund.reports",
        ("fund.ledger.services", "fund.ledger.posting"),
        "reports read through queries; they never call services",
    ),
)

# The only modules that may import these libraries.
GATEWAYS = {"stripe": "donations.stripe", "weasyprint": "fund.reports.pdf"}
# No Python module creates ledger rows: the database's fund_post() does (fund.ledger.posting).
LEDGER_WRITERS: set[str] = set()
LEDGER_MODELS = {"Transaction", "Posting"}


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_modules(root: Path, packages: tuple[str, ...]) -> Iterator[tuple[str, ast.Module]]:
    """Yield every module of the packages (migrations included) with its parsed source."""
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            yield module_name(path, root), ast.parse(path.read_text(), filename=str(path))


def imported_names(tree: ast.Module, module: str) -> Iterator[str]:
    """Yield every module an import statement anywhere in the tree names, made absolute."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")[: -node.level]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            # `from fund import views` imports fund.views.
            yield from (f"{base}.{alias.name}" for alias in node.names)


def under(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def rule_violations(root: Path, packages: tuple[str, ...] = PACKAGES) -> list[str]:
    """Return every import that breaks a rule, as 'module imports name: why'."""
    found = []
    for module, tree in source_modules(root, packages):
        names = set(imported_names(tree, module))
        for rule in RULES:
            if not under(module, rule.importer):
                continue
            bad = {n for n in names if any(under(n, forbidden) for forbidden in rule.forbidden)}
            # `from fund.ledger import models` names fund.ledger and fund.ledger.models: report one.
            for name in sorted(n for n in bad if not any(under(n, o) for o in bad - {n})):
                found.append(f"{module} imports {name}: {rule.why}")
        for library, gateway in GATEWAYS.items():
            if module != gateway and any(under(name, library) for name in names):
                found.append(f"{module} imports {library}: only {gateway} may")
    return found


def ledger_row_writers(root: Path, packages: tuple[str, ...] = PACKAGES) -> list[str]:
    """Return modules that create Transaction or Posting rows other than the posting path."""
    found = []
    for module, tree in source_modules(root, packages):
        if module in LEDGER_WRITERS or ".migrations." in module:
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            target = node.func
            # Transaction(...), Posting.objects.create(...), Transaction.objects.bulk_create(...)
            chain = []
            while isinstance(target, ast.Attribute):
                chain.append(target.attr)
                target = target.value
            if not isinstance(target, ast.Name) or target.id not in LEDGER_MODELS:
                continue
            if not chain or (chain[0] in {"create", "bulk_create", "get_or_create"}):
                found.append(f"{module}:{node.lineno} creates {target.id} rows")
    return found


def test_the_project_keeps_the_import_rules():
    assert rule_violations(ROOT) == []


def test_only_the_posting_path_creates_ledger_rows():
    assert ledger_row_writers(ROOT) == []


def write(root: Path, module: str, source: str) -> None:
    path = root.joinpath(*module.split(".")).with_suffix(".py")
    path.parent.mkdir(parents=True, exist_ok=True)
    for parent in path.relative_to(root).parents:
        if str(parent) != ".":
            (root / parent / "__init__.py").touch()
    path.write_text(source)


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        ("fund.ledger.views", "import cases.models\n", "fund.ledger.views imports cases.models"),
        (
            "fund.tasks",
            "def f():\n    from donations import stripe\n",
            "fund.tasks imports donations",
        ),
        (
            "cases.services",
            "from donations.models import Gift\n",
            "cases.services imports donations",
        ),
        ("donations.views", "from cases import queries\n", "donations.views imports cases"),
        ("fund.security.roles", "from fund.ledger import models\n", "imports fund.ledger"),
        ("fund.security.tokens", "from fund.models import Fund\n", "imports fund.models"),
        ("fund.ledger.api", "from fund.public.charts import x\n", "imports fund.public.charts"),
        ("fund.ledger.services", "from ..demo import ledger\n", "imports fund.demo"),
        ("fund.public.views", "from fund.ledger.services import x\n", "fund.ledger.services"),
        ("fund.reports.engine", "from fund.ledger import posting\n", "fund.ledger.posting"),
        ("cases.views", "import stripe\n", "cases.views imports stripe"),
        ("fund.ledger.views", "from weasyprint import HTML\n", "imports weasyprint"),
    ],
)
def test_the_checker_catches_each_kind_of_forbidden_import(tmp_path, module, source, expected):
    write(tmp_path, module, source)

    [violation] = rule_violations(tmp_path)

    assert expected in violation


def test_the_checker_allows_dotted_strings_and_permitted_imports(tmp_path):
    write(tmp_path, "fund.urls", 'from django.urls import include\nx = include("cases.urls")\n')
    write(tmp_path, "cases.services", "from fund.ledger.posting import post_transaction\n")
    write(tmp_path, "fund.public.views", "from fund.ledger.progress import fund_progress\n")
    write(tmp_path, "donations.stripe", "import stripe\n")

    assert rule_violations(tmp_path) == []


@pytest.mark.parametrize(
    "source",
    [
        "Transaction.objects.create(fund=f)\n",
        "Posting.objects.bulk_create(rows)\n",
        "Posting(transaction=t).save()\n",
    ],
)
def test_the_checker_catches_ledger_rows_made_outside_the_posting_path(tmp_path, source):
    write(tmp_path, "cases.services", source)

    [found] = ledger_row_writers(tmp_path)

    assert found.startswith("cases.services:1 creates")
