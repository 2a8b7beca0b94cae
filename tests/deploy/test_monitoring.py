"""The alert rules and the dashboard in deploy/monitoring/ (issue 17): promtool accepts the rules (when it is
installed: Debian's `prometheus` package has it), every expression parses as PromQL there, and every metric
an alert or a panel reads is one the components export (their /metrics registries, built here as the apps
build them)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from fastapi import FastAPI
from prometheus_client import generate_latest

from sop_shared.observability import install_request_context
from sop_shared.service import install_health

MONITORING = Path(__file__).resolve().parents[2] / "deploy" / "monitoring"
METRIC = re.compile(r"\b(sop_[a-z0-9_]+)")
SERIES_SUFFIXES = ("_bucket", "_sum", "_count", "_created")
# What the issue asks an operator to be able to watch, each by the metric that shows it.
WATCHED = {
    "error rate": "sop_http_requests_total",
    "p99 by route": "sop_http_request_duration_seconds_bucket",
    "outbox lag": "sop_outbox_oldest_unpublished_seconds",
    "relay failures": "sop_outbox_publish_failures_total",
    "consumer lag": "sop_event_consumer_pending",
    "audit-checkpoint age": "sop_audit_checkpoint_last_success_timestamp_seconds",
    "rate-limit refusals": "sop_rate_limit_refusals_total",
    "requests refused as busy": "sop_busy_refusals_total",
}


def exported_metrics() -> set[str]:
    """Every metric family a component's /metrics serves, with the series names Prometheus stores."""
    app = FastAPI()
    install_request_context(app, "network")
    install_health(app)
    text = generate_latest(app.state.metrics_registry).decode()
    families = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}
    names = set(families)
    for family in families:
        names |= {family + suffix for suffix in SERIES_SUFFIXES}
        names.add(family + "_total")
    return names


def alert_expressions() -> dict[str, str]:
    rules = yaml.safe_load((MONITORING / "alerts.yaml").read_text())
    return {rule["alert"]: rule["expr"] for group in rules["groups"] for rule in group["rules"]}


def panel_expressions() -> dict[str, str]:
    dashboard = json.loads((MONITORING / "dashboard.json").read_text())
    return {f"{p['title']} [{t['refId']}]": t["expr"] for p in dashboard["panels"] for t in p["targets"]}


@pytest.mark.parametrize("source", [alert_expressions, panel_expressions], ids=["alerts", "dashboard"])
def test_every_expression_reads_only_metrics_the_components_export(source) -> None:  # type: ignore[no-untyped-def]
    exported = exported_metrics()
    expressions = source()
    assert expressions
    for name, expr in expressions.items():
        used = set(METRIC.findall(expr))
        assert used, f"{name} reads no sop_ metric"
        assert used <= exported, f"{name} reads {sorted(used - exported)}, which no component exports"


def test_the_alerts_and_the_dashboard_cover_what_an_operator_must_watch() -> None:
    alerts = " ".join(alert_expressions().values())
    panels = " ".join(panel_expressions().values())
    for what, metric in WATCHED.items():
        assert metric in alerts, f"no alert on {what}"
        assert metric in panels, f"no panel for {what}"


def test_the_dashboard_is_importable_grafana_json() -> None:
    dashboard = json.loads((MONITORING / "dashboard.json").read_text())
    assert dashboard["uid"] and dashboard["title"] and dashboard["schemaVersion"] >= 30
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    assert all(p["datasource"]["uid"] == "${datasource}" for p in dashboard["panels"])


@pytest.mark.skipif(
    shutil.which("promtool") is None and not os.environ.get("CI"),
    reason="promtool not installed (apt-get install prometheus; .ci/run installs it, and under CI this fails)",
)
def test_promtool_accepts_the_rules(tmp_path: Path) -> None:
    checked = subprocess.run(
        ["promtool", "check", "rules", str(MONITORING / "alerts.yaml")], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # The panels' queries parse too: promtool checks them as recording rules.
    recording = {
        "groups": [
            {
                "name": "panels",
                "rules": [
                    {"record": f"sop:panel_{i}", "expr": expr} for i, expr in enumerate(panel_expressions().values())
                ],
            }
        ]
    }
    panels_file = tmp_path / "panels.yaml"
    panels_file.write_text(yaml.safe_dump(recording))
    checked = subprocess.run(
        ["promtool", "check", "rules", str(panels_file)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
