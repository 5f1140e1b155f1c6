"""The deployment files (deploy/, docs/deploy.md) say only what the code does (issue 7, item 4).

No container engine or cluster is needed: the files are parsed and held against the code. Every
variable they set is one the code reads (a misspelt name would be silently ignored at run time);
every command they run exists; every file the image copies is in the repository; the Compose file
has the four deployments of the Basis variant, each complete; the settings table is complete.
"""

import asyncio
import ipaddress
import os
import re
import shlex
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from django.conf import settings
from django.core.management import get_commands
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"
SRC = REPO / "src" / "blauweknop"
CONTAINERFILE = DEPLOY / "Containerfile"
DOCS = REPO / "docs" / "deploy.md"
KUBERNETES = sorted((DEPLOY / "kubernetes").glob("*.yaml"))

# Names read by the software around ours, each with the package whose source must mention it.
READ_BY_PACKAGE = {
    "WEB_CONCURRENCY": "uvicorn",
    "FORWARDED_ALLOW_IPS": "uvicorn",
    "PROMETHEUS_MULTIPROC_DIR": "prometheus_client",
}
# Names the interpreter, pip and the shell read (the images' own environment), and the pod's address
# that Kubernetes fills in (the downward API) for use in another variable's value.
PLATFORM = {"PATH", "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "PIP_DISABLE_PIP_VERSION_CHECK", "PIP_NO_CACHE_DIR"}
PLATFORM |= {"POD_IP"}
# Services that run other projects' images, configured by those images' own variables.
THIRD_PARTY_IMAGES = ("docker.io/library/",)
SIGNING_KEY = re.compile(r"BLAUWEKNOP_KEY_(?:STELSEL|\d{20}|<NAME>)(?:_FILE)?")


def source_text() -> str:
    """Every Python file of the package, as one text."""
    return "\n".join(path.read_text(encoding="utf-8") for path in SRC.rglob("*.py"))


def read_with_env() -> set[str]:
    """The settings read through ``env()`` (directly or through secret/envbool/envlist/envint): X_FILE works."""
    text = (SRC / "settings.py").read_text(encoding="utf-8")
    return set(re.findall(r"\b(?:env|envbool|envlist|envint|secret)\(\s*[\"']([A-Z][A-Z0-9_]*)[\"']", text))


def problems_with_names(names: set[str]) -> list[str]:
    """Why each name is not one the code (or the software it runs on) reads; empty when all are."""
    source, via_env = source_text(), read_with_env()
    problems = []
    for name in sorted(names):
        if SIGNING_KEY.fullmatch(name):
            continue  # keystore.py reads BLAUWEKNOP_KEY_<OIN or STELSEL>[_FILE]
        base = name.removesuffix("_FILE")
        if name.endswith("_FILE") and base not in via_env:
            problems.append(f"{name}: {base} is not read through env() in settings.py, so _FILE does nothing")
        elif base.startswith(("BLAUWEKNOP_", "DJANGO_")) or base in ("DATABASE_URL", "PORT"):
            if not re.search(rf"[\"']{base}[\"']", source):
                problems.append(f"{name}: nothing under src/ reads {base}")
        elif base in READ_BY_PACKAGE:
            package = Path(find_spec(READ_BY_PACKAGE[base]).origin).parent
            if not any(base in path.read_text(encoding="utf-8") for path in package.rglob("*.py")):
                problems.append(f"{name}: {READ_BY_PACKAGE[base]} does not read it")
        elif base not in PLATFORM:
            problems.append(f"{name}: unknown variable")
    return problems


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


def our_services() -> dict[str, dict]:
    services = compose()["services"].items()
    return {name: spec for name, spec in services if not spec["image"].startswith(THIRD_PARTY_IMAGES)}


def kustomization() -> dict:
    return yaml.safe_load((DEPLOY / "kubernetes" / "kustomization.yaml").read_text(encoding="utf-8"))


def kubernetes_objects() -> list[dict]:
    """The objects the kustomization applies (its patches are not objects of their own)."""
    paths = [DEPLOY / "kubernetes" / name for name in kustomization()["resources"]]
    return [doc for path in paths for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def containerfile_lines() -> list[str]:
    """The Containerfile's instructions, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n\s*", " ", CONTAINERFILE.read_text(encoding="utf-8"))
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def containerfile_names() -> set[str]:
    """Variables the Containerfile sets: ENV instructions and NAME=value before a RUN command."""
    names = set()
    for line in containerfile_lines():
        instruction, _, rest = line.partition(" ")
        if instruction in ("ENV", "RUN"):
            names |= set(re.findall(r"(?:^|\s|&&\s)([A-Z][A-Z0-9_]*)=", rest))
    return names


def docs_table_names() -> set[str]:
    """The names in the first column of the settings tables of docs/deploy.md."""
    first_column = re.compile(r"^\|\s*`([A-Z][A-Z0-9_]*(?:<NAME>)?(?:_FILE)?)`\s*\|", re.M)
    return set(first_column.findall(DOCS.read_text(encoding="utf-8")))


def commands_run() -> list[list[str]]:
    """Every command line the deployment files run or tell the reader to run."""
    lines = [spec["command"] for spec in our_services().values() if "command" in spec]
    for obj in kubernetes_objects():
        template = obj.get("spec", {}).get("template", {}).get("spec", {})
        lines += [c.get("args", []) for c in template.get("containers", [])]
    lines += [shlex.split(line.split(" ", 1)[1]) for line in containerfile_lines() if line.startswith("RUN ")]
    text = DOCS.read_text(encoding="utf-8") + (DEPLOY / "compose.yaml").read_text(encoding="utf-8")
    lines += [line.split() for line in re.findall(r"(?:python |\b)manage\.py [^\n`]*", text)]
    return [line for line in lines if line]


def test_the_yaml_files_parse():
    for path in DEPLOY.rglob("*.yaml"):
        assert all(isinstance(doc, dict) for doc in yaml.safe_load_all(path.read_text(encoding="utf-8"))), path
    assert our_services()
    assert {obj["kind"] for obj in kubernetes_objects()} >= {"ConfigMap", "Deployment", "Job", "Service"}


def test_every_variable_the_files_set_is_read_by_the_code():
    names = containerfile_names()
    for spec in our_services().values():
        names |= set(spec.get("environment", {}))
    for obj in kubernetes_objects():
        if obj["kind"] == "ConfigMap":
            names |= set(obj["data"])
        for container in obj.get("spec", {}).get("template", {}).get("spec", {}).get("containers", []):
            names |= {variable["name"] for variable in container.get("env", [])}
    assert len(names) > 20
    assert problems_with_names(names) == []


def test_a_misspelt_or_unread_variable_is_caught():
    assert problems_with_names({"BLAUWEKNOP_SCHEME_JWK", "DJANGO_SECRET_KEYS", "WEB_CONCURENCY"}) != []
    assert len(problems_with_names({"BLAUWEKNOP_DATA_DIR_FILE", "DJANGO_SETTINGS_MODULE_FILE"})) == 2
    assert problems_with_names({"BLAUWEKNOP_KEY_00000001823288444000_FILE", "DATABASE_URL_FILE"}) == []


def test_the_settings_table_names_every_setting_and_only_settings():
    documented = docs_table_names()
    assert problems_with_names(documented) == []
    undocumented = (read_with_env() | {"BLAUWEKNOP_DATA_DIR", "BLAUWEKNOP_KEY_<NAME>"}) - documented
    assert undocumented == set(), "add these to the settings table of docs/deploy.md"


def test_every_command_the_files_run_exists():
    django_commands = set(get_commands())
    seen = set()
    for line in commands_run():
        if "manage.py" in line:
            command = line[line.index("manage.py") + 1]
            assert command in django_commands, f"manage.py {command} does not exist: {' '.join(line)}"
            seen.add(command)
        if line[:2] == ["python", "-m"]:
            assert find_spec(line[2]), line
    assert {"migrate", "db_worker", "collectstatic", "admit_participant"} <= seen


def test_every_file_the_image_copies_is_in_the_repository():
    copies = [line.split()[1:] for line in containerfile_lines() if line.startswith("COPY ")]
    assert copies
    for *sources, _target in copies:
        if sources[0].startswith("--from="):
            continue
        for source in sources:
            assert (REPO / source).exists(), f"COPY {source}: not in the repository"
    assert os.access(DEPLOY / "entrypoint.sh", os.X_OK), "the image runs the entrypoint as it was copied"
    ignored = (REPO / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".git", ".venv", "node_modules", "var"} <= set(ignored)


def test_the_image_carries_the_design_system_css_the_settings_serve():
    copied = {line.split()[-1] for line in containerfile_lines() if line.startswith("COPY --from=assets")}
    for entry in settings.STATICFILES_DIRS:
        if isinstance(entry, tuple) and Path(entry[1]).is_relative_to(settings.NODE_MODULES):
            relative = Path(entry[1]).relative_to(settings.NODE_MODULES)
            assert f"/app/node_modules/{relative}" in copied


def kind_of(command: list[str]) -> str:
    """Which process a service runs: the image's default command is the web process."""
    markers = {"migrate": "migrate", "db_worker": "worker", "blauweknop.scheduler": "scheduler"}
    return next((kind for marker, kind in markers.items() if marker in command), " ".join(command) or "web")


def deployments() -> dict[str, dict[str, dict]]:
    """The services of each deployment, grouped by the database they use, by kind (web, worker, ...)."""
    grouped: dict[str, dict[str, dict]] = {}
    for name, spec in our_services().items():
        kind = kind_of(spec.get("command", []))
        database = spec["environment"]["DATABASE_URL_FILE"]
        assert kind not in grouped.setdefault(database, {}), f"{name}: a second {kind} in one deployment"
        grouped[database][kind] = {"name": name, **spec}
    return grouped


def test_compose_has_the_four_deployments_of_basis_each_complete():
    services = compose()["services"]
    assert services["postgres"]["image"].split(":")[-1].startswith("15")
    groups = deployments()
    webs = [group["web"]["environment"] for group in groups.values()]
    assert sorted(env["BLAUWEKNOP_ROLES"] for env in webs) == ["holder", "holder", "portal", "scheme"]
    holder_oins = [env["BLAUWEKNOP_HOLDER_OINS"] for env in webs if env["BLAUWEKNOP_ROLES"] == "holder"]
    assert len(set(holder_oins)) == 2, "two holders of different organisations"
    for group in groups.values():
        assert set(group) == {"web", "worker", "scheduler", "migrate"}, group["web"]["name"]
        env = group["web"]["environment"]
        assert "/gezondheid/klaar" in group["web"]["healthcheck"]["test"]
        for kind in ("web", "worker", "scheduler"):
            after = group[kind]["depends_on"][group["migrate"]["name"]]
            assert after == {"condition": "service_completed_successfully"}
            assert group[kind]["environment"].items() >= {k: v for k, v in env.items() if "PROMETHEUS" not in k}.items()
        role = env["BLAUWEKNOP_ROLES"]
        keys = {
            "scheme": ["STELSEL"],
            "holder": env.get("BLAUWEKNOP_HOLDER_OINS", "").split(","),
            "portal": [env.get("BLAUWEKNOP_PORTAL_OIN")],
        }[role]
        for key in keys:
            assert f"BLAUWEKNOP_KEY_{key}_FILE" in env, f"{role}: no signing key for {key}"
        if role != "scheme":
            assert {"BLAUWEKNOP_SCHEME_URL", "BLAUWEKNOP_SCHEME_JWKS_FILE"} <= set(env), role


def test_every_secret_file_a_service_reads_is_mounted_in_it():
    declared = set(compose()["secrets"])
    for name, spec in our_services().items():
        mounted = set(spec.get("secrets", []))
        assert mounted <= declared, name
        for variable, value in spec.get("environment", {}).items():
            if str(value).startswith("/run/secrets/"):
                assert value.removeprefix("/run/secrets/") in mounted, f"{name}: {variable} reads an unmounted secret"
    postgres = compose()["services"]["postgres"]
    for database in postgres["environment"]["APP_DATABASES"].split():
        assert f"{database}_db_password" in postgres["secrets"]


def make_secrets(folder: Path) -> None:
    """Run deploy/make-secrets.sh as if ``folder`` were deploy/."""
    (folder / "make-secrets.sh").write_bytes((DEPLOY / "make-secrets.sh").read_bytes())
    blauweknop = Path(sys.executable).with_name("blauweknop")  # the command of this venv
    subprocess.run(
        ["/bin/sh", str(folder / "make-secrets.sh")],
        env={**os.environ, "BLAUWEKNOP": str(blauweknop)},
        check=True,
        capture_output=True,
        timeout=120,
    )


def test_make_secrets_makes_every_file_compose_reads(tmp_path):
    make_secrets(tmp_path)
    for name, spec in compose()["secrets"].items():
        assert (tmp_path / spec["file"]).is_file(), f"make-secrets.sh does not make {spec['file']} ({name})"
    mounted = our_services()["scheme-migrate"]["volumes"][0].split(":")[0]
    assert sorted(p.name for p in (tmp_path / mounted).iterdir()) == ["holder-a.json", "holder-b.json", "portal.json"]
    assert (tmp_path / "secrets").stat().st_mode & 0o077 == 0, "the secrets folder is the owner's only"


def mounted_at(service: dict, path: str) -> str:
    """The name of the secret a service sees at ``path`` (short or long syntax)."""
    for secret in service.get("secrets", []):
        source, target = (secret, secret) if isinstance(secret, str) else (secret["source"], secret.get("target"))
        if path == f"/run/secrets/{target or source}":
            return source
    raise AssertionError(f"nothing is mounted at {path}")


def test_no_two_deployments_share_a_cache_and_each_cache_has_its_own_password(tmp_path):
    # Django's cache unpickles what it reads: write access to a deployment's cache runs code in it.
    make_secrets(tmp_path)
    services, files = compose()["services"], compose()["secrets"]
    caches = {}
    for group in deployments().values():
        env = group["web"]["environment"]
        assert "BLAUWEKNOP_CACHE_URL" not in env, "the cache URL holds a password: it comes from a secret file"
        for kind in ("web", "worker", "scheduler", "migrate"):
            assert group[kind]["environment"].get("BLAUWEKNOP_CACHE_URL_FILE") == env["BLAUWEKNOP_CACHE_URL_FILE"]
        secret = mounted_at(group["web"], env["BLAUWEKNOP_CACHE_URL_FILE"])
        caches[group["web"]["name"]] = urlsplit((tmp_path / files[secret]["file"]).read_text().strip())
    assert len(caches) == 4
    assert len({url.hostname for url in caches.values()}) == 4, "two deployments share a Redis"
    assert len({url.password for url in caches.values()}) == 4 and all(url.password for url in caches.values())
    for url in caches.values():
        redis = services[url.hostname]
        config = redis["command"][1]  # redis-server <config file> ...
        assert redis["command"][0] == "redis-server"
        conf = (tmp_path / files[mounted_at(redis, config)]["file"]).read_text()
        assert f"requirepass {url.password}\n" in conf


@pytest.mark.parametrize("component", ["web", "worker", "scheduler"])
def test_kubernetes_runs_each_process_kind_as_a_deployment(component):
    (deployment,) = [
        obj
        for obj in kubernetes_objects()
        if obj["kind"] == "Deployment" and obj["metadata"]["labels"]["app.kubernetes.io/component"] == component
    ]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["resources"]["requests"]
    if component == "web":
        assert container["livenessProbe"]["httpGet"]["path"] == "/gezondheid/live"
        assert container["readinessProbe"]["httpGet"]["path"] == "/gezondheid/klaar"
        (config,) = [obj for obj in kubernetes_objects() if obj["kind"] == "ConfigMap"]
        allowed = config["data"]["DJANGO_ALLOWED_HOSTS"].split(",")
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            (host,) = [h["value"] for h in container[probe]["httpGet"]["httpHeaders"] if h["name"] == "Host"]
            assert host in allowed, "Django refuses a probe whose Host it does not allow"
    if component == "scheduler":
        assert deployment["spec"]["replicas"] == 1


def test_kubernetes_migrates_in_a_job_and_every_pod_gets_the_settings_and_secrets():
    (job,) = [obj for obj in kubernetes_objects() if obj["kind"] == "Job"]
    assert job["spec"]["template"]["spec"]["containers"][0]["args"][1:3] == ["manage.py", "migrate"]
    patches = kustomization()["patches"]
    patch = DEPLOY / "kubernetes" / patches[0]["path"]
    assert {p["target"]["kind"] for p in patches} == {"Deployment", "Job"}
    listed = {*kustomization()["resources"], *(p["path"] for p in patches), "kustomization.yaml"}
    assert listed == {path.name for path in KUBERNETES}, "every manifest is applied"
    pod = yaml.safe_load(patch.read_text(encoding="utf-8"))["spec"]["template"]["spec"]
    mounts = [m["mountPath"] for m in pod["containers"][0]["volumeMounts"]]
    assert any(v.get("secret") for v in pod["volumes"])
    (config,) = [obj for obj in kubernetes_objects() if obj["kind"] == "ConfigMap"]
    for variable, value in config["data"].items():
        if variable.endswith("_FILE"):
            assert any(value.startswith(mount + "/") for mount in mounts), f"{variable}: {value} is not mounted"


def test_it_refuses_a_client_address_the_client_wrote_itself_in_kubernetes():
    """The per-address limits (wrong check codes) count the address the ingress saw, not one the client sent."""
    (config,) = [obj for obj in kubernetes_objects() if obj["kind"] == "ConfigMap"]
    trusted = config["data"]["FORWARDED_ALLOW_IPS"]
    # An address of the first trusted network ("*": any address is trusted, so any will do).
    first = trusted.split(",")[0].strip()
    ingress = "10.0.0.7" if first == "*" else str(next(ipaddress.ip_network(first).hosts()))
    seen: list[str] = []

    async def app(scope, receive, send) -> None:
        seen.append(scope["client"][0])

    # The client claims an address of its own; the ingress controller appends the one it saw.
    headers = [(b"x-forwarded-for", b"192.0.2.66, 203.0.113.5")]
    scope = {"type": "http", "scheme": "http", "client": (ingress, 40000), "headers": headers}
    asyncio.run(ProxyHeadersMiddleware(app, trusted_hosts=trusted)(scope, None, None))
    assert seen == ["203.0.113.5"]
