"""graphql-codegen and TypeScript, unmodified, as a front-end integrator uses them: every GraphQL operation the
docs show (the same ones `test_gql_client` validates in Python `gql`) becomes TypeScript types from the gateway's
committed schema (`docs/contract/gateway.graphql`) with the `typescript` and `typescript-operations` plugins and
`strictScalars`, and a small program reading the generated results compiles under `tsc --strict`.

Node and npm come from Debian's `nodejs` package. The npm packages are pinned in tests/gateway/codegen/package.json
and its package-lock.json, and installed with `npm ci` into a cache folder outside the repository
(`~/.cache/sop-tests/codegen/<hash of the lock>`, or under `$XDG_CACHE_HOME`), reused while the lock is unchanged.
The first install needs the npm registry. No Node, or a failed install: the test skips with the reason, except
under CI, where it fails (CI runs what should run).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import NoReturn

import pytest

from tests.gateway.test_gql_client import SDL, documented_operations

PACKAGE = Path(__file__).resolve().parent / "codegen"
LOCK = PACKAGE / "package-lock.json"
TOOLS = ("graphql-codegen", "tsc")
# The schema's own scalars as TypeScript sees them on the wire (strictScalars refuses one that is not here).
SCALARS = {"Date": "string", "DateTime": "string", "JSON": "unknown"}
# Documented operations are anonymous; the two the program below reads get stable names, found by what they ask.
NAMED = {
    "FamilyCaseView": 'caseView(caseId: $id, audience: FAMILY, language: "es")',
    "CaseList": "cases(first: 25",
}
ANONYMOUS = re.compile(r"^(\s*(?:#[^\n]*\n\s*)*)(query|mutation|subscription)(?=\s*[({])")

USE_TS = """\
// Written by tests/gateway/test_graphql_codegen.py: reads the generated result types as a client would.
import type { CaseListQuery, FamilyCaseViewQuery } from "./types";

export function firstDangerText(result: FamilyCaseViewQuery): string | null {
  const danger = result.caseView.worries?.danger[0];
  return danger === undefined ? null : danger.text;
}

export function planRuleTexts(result: FamilyCaseViewQuery): string[] {
  return result.caseView.safetyPlan?.rules.map((rule) => rule.text) ?? [];
}

export function openCaseCounties(result: CaseListQuery): string[] {
  return result.cases.edges.map((edge) => edge.node.county ?? "unknown");
}
"""


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must compile the GraphQL types, not skip it", pytrace=False)
    pytest.skip(reason)


def cache_dir() -> Path:
    """Where the pinned packages are installed: outside the repository, one folder per lock file."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(base) / "sop-tests" / "codegen" / hashlib.sha256(LOCK.read_bytes()).hexdigest()[:16]


def installed() -> Path:
    """The pinned graphql-codegen and tsc, installed with `npm ci` unless the lock's folder holds them already."""
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        _unavailable("no Node/npm (install Debian's `nodejs` and `npm`: apt-get install nodejs npm)")
    cache = cache_dir()
    bins = cache / "node_modules" / ".bin"
    if (cache / ".installed").exists() and all((bins / tool).exists() for tool in TOOLS):
        return bins
    # Installed beside the final folder, then renamed: a half install is never reused.
    staging = cache.with_name(f"{cache.name}.{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(PACKAGE / name, staging / name)
    try:
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=staging,
            capture_output=True,
            text=True,
            timeout=480,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        _unavailable(f"npm ci of tests/gateway/codegen failed: {exc}")
    if done.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        _unavailable(f"npm ci of tests/gateway/codegen failed (exit {done.returncode}): {done.stderr or done.stdout}")
    (staging / ".installed").touch()
    shutil.rmtree(cache, ignore_errors=True)
    try:
        staging.rename(cache)
    except OSError:  # another run installed it meanwhile
        shutil.rmtree(staging, ignore_errors=True)
    return bins


def named(where: str, document: str) -> tuple[str, str]:
    """The operation's name, given to an anonymous one (its docs place, or its stable name in NAMED)."""
    name = next((n for n, asks in NAMED.items() if asks in document), None)
    name = name or "Documented" + "".join(part.capitalize() for part in re.split(r"\W+", where))
    return name, ANONYMOUS.sub(rf"\1\2 {name}", document, count=1)


def run(command: list[str], cwd: Path) -> str:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)
    output = f"$ {' '.join(command)}\n{done.stdout}{done.stderr}"
    assert done.returncode == 0, f"exit {done.returncode}\n{output}"
    return output


@pytest.mark.timeout(600)
def test_graphql_codegen_types_of_the_documented_operations_compile_under_tsc_strict(tmp_path: Path) -> None:
    bins = installed()
    operations = tmp_path / "operations"
    operations.mkdir()
    names = []
    for where, document in documented_operations():
        name, text = named(where, document)
        names.append(name)
        (operations / f"{name}.graphql").write_text(text, encoding="utf-8")
    assert set(NAMED) <= set(names), f"the docs no longer show the operations use.ts reads: {names}"
    assert len(names) == len(set(names)), names

    config = {
        "overwrite": True,
        "schema": str(SDL),
        "documents": str(operations / "*.graphql"),
        # typescript-operations 6 writes the enums and inputs its operations use itself: beside the typescript
        # plugin's schema types in one file they would be declared twice, so each plugin has its own file.
        "config": {"strictScalars": True, "scalars": SCALARS, "enumsAsTypes": True},
        "generates": {
            str(tmp_path / "schema.ts"): {"plugins": ["typescript"]},
            str(tmp_path / "types.ts"): {"plugins": ["typescript-operations"]},
        },
    }
    (tmp_path / "codegen.yml").write_text(json.dumps(config, indent=2), encoding="utf-8")  # JSON is YAML
    # Run from the install, where the plugins resolve; every path in the config is absolute.
    run([str(bins / "graphql-codegen"), "--config", str(tmp_path / "codegen.yml")], bins.parents[1])
    types = (tmp_path / "types.ts").read_text(encoding="utf-8")
    for name in names:
        assert re.search(rf"\bexport type {re.escape(name)}(Query|Mutation)\b", types), name

    (tmp_path / "use.ts").write_text(USE_TS, encoding="utf-8")
    strict = ["--strict", "--noEmit", "--target", "es2022", "--module", "esnext", "--moduleResolution", "bundler"]
    run([str(bins / "tsc"), *strict, "schema.ts", "types.ts", "use.ts"], tmp_path)
