"""Static checks of the Kubernetes base in deploy/k8s.

The kustomization is rendered here without kubectl (resources + namespace + images, the only
features it uses; anything else fails the test) and every document is validated against the
Kubernetes 1.30 OpenAPI schemas shipped with kubernetes-validate (strict: unknown fields fail).
"""

import re
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import kubernetes_validate
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
COMPONENTS = ["network", "assessment", "plans", "practice", "gateway"]
SERVICES = ["network", "assessment", "plans", "practice"]
PORTS = {"network": 8001, "assessment": 8002, "plans": 8003, "practice": 8004, "gateway": 8000}
KUBERNETES_VERSION = "1.30.0"
NAMESPACE = "sop"
IMAGE = "sop-platform"
KEYS_SECRET = "sop-internal-keys"
PRIVATE_KEY = "internal.key.pem"
PUBLIC_JWKS = "internal.jwks.json"
CLUSTER_SCOPED = {"Namespace"}
SUPPORTED_KUSTOMIZATION_FIELDS = {"apiVersion", "kind", "namespace", "resources", "images"}


@cache
def kustomization() -> dict:
    return yaml.safe_load((K8S / "kustomization.yaml").read_text())


def pod_spec(doc: dict) -> dict | None:
    if doc["kind"] in ("Deployment", "Job"):
        return doc["spec"]["template"]["spec"]
    return None


@cache
def raw_documents() -> tuple[dict, ...]:
    docs = []
    for resource in kustomization()["resources"]:
        path = K8S / resource
        assert path.is_file(), f"{resource}: only plain files are supported by this renderer"
        docs.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    return tuple(docs)


@cache
def rendered() -> tuple[dict, ...]:
    k = kustomization()
    unsupported = set(k) - SUPPORTED_KUSTOMIZATION_FIELDS
    assert not unsupported, f"extend the renderer in this test for {unsupported}"
    images = {image["name"]: image for image in k.get("images", [])}
    docs = [yaml.safe_load(yaml.safe_dump(doc)) for doc in raw_documents()]  # deep copies
    for doc in docs:
        if "namespace" in k and doc["kind"] not in CLUSTER_SCOPED:
            doc["metadata"]["namespace"] = k["namespace"]
        spec = pod_spec(doc)
        for container in spec["containers"] if spec else []:
            name, _, tag = container["image"].partition(":")
            if name in images:
                override = images[name]
                image = f"{override.get('newName', name)}:{override.get('newTag', tag)}"
                container["image"] = image + (f"@{override['digest']}" if "digest" in override else "")
    return tuple(docs)


def find(kind: str, name: str) -> dict:
    matches = [d for d in rendered() if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected exactly one {kind}/{name}, found {len(matches)}"
    return matches[0]


def of_kind(kind: str) -> list[dict]:
    docs = [d for d in rendered() if d["kind"] == kind]
    assert docs, f"no {kind} rendered"
    return docs


def selects(selector: dict, labels: dict) -> bool:
    return bool(selector) and all(labels.get(key) == value for key, value in selector.items())


def container(doc: dict) -> dict:
    containers = pod_spec(doc)["containers"]
    assert len(containers) == 1, doc["metadata"]["name"]
    return containers[0]


def env_names(doc: dict) -> list[str]:
    return [item["name"] for item in container(doc).get("env", [])]


def config_of(doc: dict) -> dict[str, str]:
    data: dict[str, str] = {}
    for source in container(doc).get("envFrom", []):
        data.update(find("ConfigMap", source["configMapRef"]["name"]).get("data", {}))
    return data


def projected_keys(doc: dict) -> set[str]:
    """Keys of the internal-keys Secret that end up as files in this pod ("*" = all of them)."""
    spec = pod_spec(doc)
    volumes = {v["name"]: v for v in spec.get("volumes", []) if v.get("secret", {}).get("secretName") == KEYS_SECRET}
    mounted = {m["name"] for c in spec["containers"] for m in c.get("volumeMounts", [])}
    keys: set[str] = set()
    for name, volume in volumes.items():
        if name in mounted:
            items = volume["secret"].get("items")
            keys |= {item["key"] for item in items} if items else {"*"}
    return keys


def test_every_document_is_valid_kubernetes():
    docs = rendered()
    assert len(docs) >= 1 + 1 + 7 * len(COMPONENTS)
    errors = []
    for doc in docs:
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = ".".join(str(p) for p in error.path)
            errors.append(f"{doc['kind']}/{doc['metadata']['name']}: {path}: {error.message}")
    assert not errors, "\n".join(errors)


def test_everything_lives_in_the_namespace_and_no_secret_is_committed():
    assert kustomization()["namespace"] == NAMESPACE
    find("Namespace", NAMESPACE)
    for doc in raw_documents():
        assert doc["kind"] != "Secret", f"Secret {doc['metadata']['name']} must not be committed"
        if doc["kind"] not in CLUSTER_SCOPED:
            assert doc["metadata"].get("namespace") == NAMESPACE, doc["metadata"]["name"]


def test_each_component_has_its_resources():
    for name in COMPONENTS:
        for kind in ("Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"):
            labels = find(kind, name)["metadata"]["labels"]
            assert labels["app.kubernetes.io/name"] == name
            assert labels["app.kubernetes.io/part-of"] == "sop-platform"
        find("Job", f"migrate-{name}")


def test_deployments_run_the_component_with_probes_and_resources():
    for name in COMPONENTS:
        deployment = find("Deployment", name)
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert labels["app.kubernetes.io/name"] == name
        assert labels["app.kubernetes.io/part-of"] == "sop-platform"
        assert selects(deployment["spec"]["selector"]["matchLabels"], labels)
        c = container(deployment)
        assert c["image"].split(":")[0] == IMAGE
        assert c["args"] == ["serve", name, "--host", "0.0.0.0", "--port", str(PORTS[name])]
        port_names = {p.get("name"): p["containerPort"] for p in c["ports"]}
        assert PORTS[name] in port_names.values()
        for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
            http = c[probe]["httpGet"]
            assert http["path"] == path, f"{name} {probe}"
            assert port_names.get(http["port"], http["port"]) == PORTS[name], f"{name} {probe}"
        for bound in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(c["resources"][bound]), f"{name} {bound}"


def test_pods_run_as_non_root_with_a_read_only_root():
    pods = of_kind("Deployment") + of_kind("Job")
    assert len(pods) == 2 * len(COMPONENTS)
    for doc in pods:
        where = f"{doc['kind']}/{doc['metadata']['name']}"
        spec = pod_spec(doc)
        assert spec["securityContext"]["runAsNonRoot"] is True, where
        assert spec["securityContext"]["runAsUser"] == 10001, where
        for c in spec["containers"]:
            sc = c["securityContext"]
            assert sc["runAsNonRoot"] is True, where
            assert sc["runAsUser"] == 10001, where
            assert sc["readOnlyRootFilesystem"] is True, where
            assert sc["allowPrivilegeEscalation"] is False, where
            assert sc["capabilities"]["drop"] == ["ALL"], where
            tmp = next(m for m in c["volumeMounts"] if m["mountPath"] == "/tmp")
            volume = next(v for v in spec["volumes"] if v["name"] == tmp["name"])
            assert "emptyDir" in volume, where


def test_services_select_their_deployments_on_the_right_port():
    for name in COMPONENTS:
        service = find("Service", name)
        deployment = find("Deployment", name)
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
        assert selects(service["spec"]["selector"], pod_labels)
        job_labels = find("Job", f"migrate-{name}")["spec"]["template"]["metadata"]["labels"]
        assert not selects(service["spec"]["selector"], job_labels), f"{name}: Service would route to the Job"
        c = container(deployment)
        by_name = {p.get("name"): p["containerPort"] for p in c["ports"]}
        (port,) = service["spec"]["ports"]
        assert port["port"] == PORTS[name]
        assert by_name.get(port["targetPort"], port["targetPort"]) == PORTS[name]


def test_autoscaling_and_disruption_budget():
    for name in COMPONENTS:
        hpa = find("HorizontalPodAutoscaler", name)
        assert hpa["apiVersion"] == "autoscaling/v2"
        assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
        assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 10)
        (metric,) = hpa["spec"]["metrics"]
        assert metric["resource"]["name"] == "cpu"
        assert metric["resource"]["target"] == {"type": "Utilization", "averageUtilization": 70}
        assert "replicas" not in find("Deployment", name)["spec"], f"{name}: the HPA owns replicas"

        pdb = find("PodDisruptionBudget", name)
        assert pdb["apiVersion"] == "policy/v1"
        assert pdb["spec"]["minAvailable"] == 1
        pod_labels = find("Deployment", name)["spec"]["template"]["metadata"]["labels"]
        assert selects(pdb["spec"]["selector"]["matchLabels"], pod_labels)


def test_migration_jobs():
    for name in COMPONENTS:
        job = find("Job", f"migrate-{name}")
        assert job["spec"]["backoffLimit"] == 3
        assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
        c = container(job)
        assert c["image"].split(":")[0] == IMAGE
        assert c["args"] == ["migrate", name]
        assert f"SOP_{name.upper()}_DATABASE_URL" in env_names(job)
        assert config_of(job) == config_of(find("Deployment", name))


def test_environment_comes_from_config_and_database_urls_from_secrets():
    for name in COMPONENTS:
        prefix = f"SOP_{name.upper()}_"
        for doc in (find("Deployment", name), find("Job", f"migrate-{name}")):
            config = config_of(doc)
            assert config, name
            assert config[prefix + "ENVIRONMENT"] == "production"
            assert urlsplit(config[prefix + "EVENTS_URL"]).scheme == "nats"
            names = list(config) + env_names(doc)
            for key in names:
                assert key.startswith(prefix), f"{name}: {key}"
            assert prefix + "DATABASE_URL" not in config, "database URLs hold passwords: use the Secret"
            (db,) = [e for e in container(doc)["env"] if e["name"] == prefix + "DATABASE_URL"]
            assert db["valueFrom"]["secretKeyRef"] == {"name": "sop-database-urls", "key": name}


def test_gateway_configuration_points_at_the_services():
    config = config_of(find("Deployment", "gateway"))
    for name in SERVICES:
        url = urlsplit(config[f"SOP_GATEWAY_{name.upper()}_URL"])
        service = find("Service", url.hostname)
        assert url.port == service["spec"]["ports"][0]["port"] == PORTS[name]
    assert config["SOP_GATEWAY_OIDC_AUDIENCE"] == "sop-platform"
    assert urlsplit(config["SOP_GATEWAY_OIDC_JWKS_URL"]).scheme == "https"
    assert config["SOP_GATEWAY_OIDC_ISSUER"]
    assert "SOP_GATEWAY_OIDC_JWKS_FILE" not in config


def test_only_the_gateway_mounts_the_private_signing_key():
    for name in SERVICES:
        deployment = find("Deployment", name)
        assert projected_keys(deployment) == {PUBLIC_JWKS}, name
        mount = next(m for m in container(deployment)["volumeMounts"] if m["mountPath"] == "/keys")
        assert mount["readOnly"] is True
        assert config_of(deployment)[f"SOP_{name.upper()}_INTERNAL_JWKS_FILE"] == f"/keys/{PUBLIC_JWKS}"
    gateway = find("Deployment", "gateway")
    assert PRIVATE_KEY in projected_keys(gateway)
    assert config_of(gateway)["SOP_GATEWAY_INTERNAL_SIGNING_KEY_FILE"] == f"/keys/{PRIVATE_KEY}"
    holders = {
        f"{doc['kind']}/{doc['metadata']['name']}"
        for doc in rendered()
        if pod_spec(doc) and (projected_keys(doc) & {PRIVATE_KEY, "*"})
    }
    assert holders == {"Deployment/gateway"}


def network_policies_for(pod_labels: dict) -> list[dict]:
    return [p for p in of_kind("NetworkPolicy") if selects(p["spec"]["podSelector"].get("matchLabels", {}), pod_labels)]


def test_default_deny_ingress():
    denies = [
        p for p in of_kind("NetworkPolicy") if p["spec"]["podSelector"] == {} and "Ingress" in p["spec"]["policyTypes"]
    ]
    assert len(denies) == 1
    assert not denies[0]["spec"].get("ingress")


def test_services_admit_only_the_gateway_on_their_port():
    gateway_pods = find("Deployment", "gateway")["spec"]["template"]["metadata"]["labels"]
    for name in SERVICES:
        pod_labels = find("Deployment", name)["spec"]["template"]["metadata"]["labels"]
        policies = network_policies_for(pod_labels)
        assert policies, name
        rules = [rule for p in policies for rule in p["spec"].get("ingress", [])]
        assert rules, name
        for rule in rules:
            peers = rule.get("from")
            assert peers, f"{name}: a rule without `from` admits everyone"
            for peer in peers:
                assert set(peer) == {"podSelector"}, f"{name}: only pod selectors, got {set(peer)}"
                match = peer["podSelector"]["matchLabels"]
                assert match["app.kubernetes.io/name"] == "gateway"
                assert selects(match, gateway_pods)
            assert [p["port"] for p in rule["ports"]] == [PORTS[name]]


def test_gateway_accepts_ingress_on_8000_from_anywhere():
    pod_labels = find("Deployment", "gateway")["spec"]["template"]["metadata"]["labels"]
    rules = [rule for p in network_policies_for(pod_labels) for rule in p["spec"].get("ingress", [])]
    assert any(not rule.get("from") and [p["port"] for p in rule["ports"]] == [8000] for rule in rules)


def test_image_placeholder_is_overridable():
    (image,) = kustomization()["images"]
    assert image["name"] == IMAGE
    for doc in raw_documents():
        spec = pod_spec(doc)
        for c in spec["containers"] if spec else []:
            assert c["image"] == IMAGE, f"{doc['metadata']['name']}: the tag and digest come from kustomization.yaml"


def test_every_pod_runs_the_image_by_tag_and_digest():
    (image,) = kustomization()["images"]
    assert image["newTag"] != "latest" and re.fullmatch(r"sha256:[0-9a-f]{64}", image["digest"])
    for doc in rendered():
        spec = pod_spec(doc)
        for c in spec["containers"] if spec else []:
            assert re.fullmatch(rf"{IMAGE}:[\w.-]+@sha256:[0-9a-f]{{64}}", c["image"]), c["image"]
            assert ":latest" not in c["image"]


SECRET_LIKE = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|DATABASE_URL|REDIS_URL|API_KEY|PRIVATE_KEY)$")


def test_secrets_come_only_from_secret_references():
    """No literal secret in a manifest: every `env` entry is a Secret reference, and no ConfigMap holds a
    secret-looking key or a URL with credentials in it."""
    for doc in rendered():
        spec = pod_spec(doc)
        for c in spec["containers"] if spec else []:
            for item in c.get("env", []):
                where = f"{doc['kind']}/{doc['metadata']['name']}: {item['name']}"
                assert "value" not in item, f"{where}: a literal value"
                assert set(item["valueFrom"]) == {"secretKeyRef"}, where
    for config in of_kind("ConfigMap"):
        for key, value in config.get("data", {}).items():
            assert not SECRET_LIKE.search(key), f"{config['metadata']['name']}: {key} belongs in a Secret"
            assert not urlsplit(value).password, f"{config['metadata']['name']}: {key} carries a password"


def matches(selector: dict, labels: dict) -> bool:
    """A label selector (matchLabels and `In` matchExpressions) against a pod's labels."""
    expressions = selector.get("matchExpressions", [])
    assert all(e["operator"] == "In" for e in expressions), "extend this test for other operators"
    return (
        bool(selector)
        and all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())
        and all(labels.get(e["key"]) in e["values"] for e in expressions)
    )


def pod_labels_of(doc: dict) -> dict:
    return doc["spec"]["template"]["metadata"]["labels"]


def egress_of(doc: dict) -> list[tuple[str, int]]:
    """Where this pod may connect, as (peer, port) pairs: peer is `dns`, `namespace:<name>`, `pod:<name>`
    for a component in this namespace, or the ipBlock's CIDR."""
    labels = pod_labels_of(doc)
    policies = [
        p for p in of_kind("NetworkPolicy") if "Egress" in p["spec"]["policyTypes"] and p["spec"]["podSelector"]
    ]
    selecting = [p for p in policies if matches(p["spec"]["podSelector"], labels)]
    assert selecting, f"{doc['kind']}/{doc['metadata']['name']}: no egress policy selects it"
    allowed: list[tuple[str, int]] = []
    for policy in selecting:
        for rule in policy["spec"]["egress"]:
            assert rule.get("to") and rule.get("ports"), f"{policy['metadata']['name']}: a rule open to everything"
            for peer in rule["to"]:
                if "ipBlock" in peer:
                    name = peer["ipBlock"]["cidr"]
                elif peer.get("podSelector", {}).get("matchLabels", {}).get("k8s-app") == "kube-dns":
                    assert peer["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "kube-system"}
                    name = "dns"
                elif "namespaceSelector" in peer:
                    assert set(peer) == {"namespaceSelector"}
                    name = "namespace:" + peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
                else:
                    targets = [d for d in of_kind("Deployment") if matches(peer["podSelector"], pod_labels_of(d))]
                    assert targets, f"{policy['metadata']['name']}: a peer that selects no component"
                    name = "pods:" + ",".join(sorted(d["metadata"]["name"] for d in targets))
                allowed += [(name, port["port"]) for port in rule["ports"]]
    return sorted(set(allowed))


DNS = [("dns", 53)]
POSTGRES, NATS = [("namespace:postgres", 5432)], [("namespace:nats", 4222)]


def test_egress_is_denied_unless_a_policy_allows_it():
    denies = [
        p for p in of_kind("NetworkPolicy") if p["spec"]["podSelector"] == {} and "Egress" in p["spec"]["policyTypes"]
    ]
    assert len(denies) == 1 and not denies[0]["spec"].get("egress")


def test_services_reach_only_dns_postgresql_and_nats():
    for name in SERVICES:
        assert egress_of(find("Deployment", name)) == sorted(DNS + POSTGRES + NATS), name


def test_migrations_reach_only_dns_and_postgresql():
    for name in COMPONENTS:
        assert egress_of(find("Job", f"migrate-{name}")) == sorted(DNS + POSTGRES), name


def test_the_gateway_reaches_the_services_its_stores_redis_and_the_issuers_on_443_only():
    allowed = egress_of(find("Deployment", "gateway"))
    services = [("pods:assessment,network,plans,practice", PORTS[name]) for name in SERVICES]
    redis = [("namespace:redis", 6379), ("namespace:redis", 6380)]
    assert allowed == sorted(DNS + POSTGRES + NATS + services + redis + [("0.0.0.0/0", 443)])
    (issuers,) = [
        peer["ipBlock"]
        for p in of_kind("NetworkPolicy")
        for rule in p["spec"].get("egress", [])
        for peer in rule["to"]
        if "ipBlock" in peer
    ]
    assert {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"} <= set(issuers["except"]), "not into the cluster"
    for config_url in (config_of(find("Deployment", "gateway"))["SOP_GATEWAY_OIDC_JWKS_URL"],):
        assert urlsplit(config_url).scheme == "https" and urlsplit(config_url).port in (None, 443)


def test_readiness_is_the_database_check_and_the_gateway_metrics_token_is_an_optional_secret():
    """/readyz checks the database only (a NATS outage keeps pods in rotation; the outbox holds the events);
    liveness is /healthz, which never waits on the bus. The metrics token is never in a ConfigMap."""
    for name in COMPONENTS:
        c = container(find("Deployment", name))
        assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert c["livenessProbe"]["httpGet"]["path"] == c["startupProbe"]["httpGet"]["path"] == "/healthz"
    gateway = find("Deployment", "gateway")
    assert "SOP_GATEWAY_METRICS_TOKEN" not in config_of(gateway)
    (token,) = [e for e in container(gateway)["env"] if e["name"] == "SOP_GATEWAY_METRICS_TOKEN"]
    assert token["valueFrom"]["secretKeyRef"] == {"name": "sop-metrics-token", "key": "token", "optional": True}
