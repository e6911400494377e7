#!/usr/bin/env python3
"""Checks rendered Kubernetes manifests offline (scripts/k8s-validate.sh).

    k8s_validate.py check CRD_DIR SPIN_TOML RENDERED.yaml...
    k8s_validate.py self-test CRD_DIR SPIN_TOML RENDERED.yaml

`check` validates every object of each file:
- SpinApp: against the openAPIV3Schema of the CRD in CRD_DIR, strictly (an
  unknown field is an error, as with `kubectl apply --validate=strict`; a
  plain JSON Schema would accept it), then against spin.toml: every variable
  is declared there, every `secret = true` one comes from a Secret, every
  required one is set, and `replicas` is not set with `enableAutoscaling`
  (the operator refuses that; the schema cannot say it).
- core objects (v1, apps, batch, autoscaling, networking.k8s.io): against
  Kubernetes' own schemas with kubernetes-validate, strictly.
- keda.sh ScaledObject: no schema is available offline; its target and
  triggers are checked by hand.
- references: HPA, ScaledObject and Ingress backends name what exists; a
  runtime-config Secret rendered alongside holds a Redis `default` store.

`self-test` breaks copies of the objects of a good file in known ways and
fails unless `check` refuses every one: proof that the checks can fail.
"""

import base64
import copy
import glob
import os
import sys
import tomllib

import jsonschema
import kubernetes_validate
import yaml

# The Kubernetes version whose schemas the core objects are checked against
# (kubernetes-validate ships them; its version is pinned in k8s-validate.sh).
K8S_VERSION = "1.31.0"
SPINAPP_API = "core.spinkube.dev/v1alpha1"
EXECUTOR = "containerd-shim-spin"


def load_crd_schemas(crd_dir):
    """{(apiVersion, kind): strict openAPIV3Schema} from the CRD files."""
    schemas = {}
    for path in sorted(glob.glob(os.path.join(crd_dir, "*.yaml"))):
        with open(path) as f:
            for crd in yaml.safe_load_all(f):
                if not crd or crd.get("kind") != "CustomResourceDefinition":
                    continue
                group = crd["spec"]["group"]
                kind = crd["spec"]["names"]["kind"]
                for version in crd["spec"]["versions"]:
                    schema = strict(copy.deepcopy(version["schema"]["openAPIV3Schema"]))
                    schemas[(f"{group}/{version['name']}", kind)] = schema
    return schemas


def strict(schema):
    """Forbids unknown fields wherever the schema lists the known ones, as
    the API server's strict field validation does (metadata excepted: the
    CRD leaves it to the server, and it is ObjectMeta)."""
    if isinstance(schema, dict):
        props = schema.get("properties")
        if (
            props is not None
            and "additionalProperties" not in schema
            and not schema.get("x-kubernetes-preserve-unknown-fields")
        ):
            schema["additionalProperties"] = False
        for key, value in schema.items():
            if key == "properties":
                for name, sub in value.items():
                    if name != "metadata":
                        strict(sub)
            else:
                strict(value)
    elif isinstance(schema, list):
        for item in schema:
            strict(item)
    return schema


def spin_variables(spin_toml):
    with open(spin_toml, "rb") as f:
        return tomllib.load(f).get("variables", {})


def check_spinapp(obj, schemas, variables):
    errors = []
    schema = schemas.get((obj.get("apiVersion"), obj.get("kind")))
    if schema is None:
        return [f"no CRD schema for {obj.get('apiVersion')} {obj.get('kind')}"]
    validator = jsonschema.Draft7Validator(schema)
    for error in sorted(validator.iter_errors(obj), key=lambda e: list(e.absolute_path)):
        path = "/".join(str(p) for p in error.absolute_path) or "(top)"
        errors.append(f"schema: {path}: {error.message}")
    spec = obj.get("spec") or {}
    if spec.get("executor") != EXECUTOR:
        errors.append(f"spec.executor is {spec.get('executor')!r}, not {EXECUTOR!r}")
    if spec.get("enableAutoscaling") and "replicas" in spec:
        errors.append("spec.replicas is set with enableAutoscaling: true (the operator refuses it)")
    given = {}
    for var in spec.get("variables") or []:
        if isinstance(var, dict) and "name" in var:
            given[var["name"]] = var
    for name, var in given.items():
        declared = variables.get(name)
        if declared is None:
            errors.append(f"variable {name!r} is not in spin.toml's [variables]")
            continue
        from_secret = "secretKeyRef" in (var.get("valueFrom") or {})
        if declared.get("secret") and not from_secret:
            errors.append(f"variable {name!r} is secret in spin.toml but not from a Secret (valueFrom.secretKeyRef)")
    for name, declared in variables.items():
        if declared.get("required") and name not in given:
            errors.append(f"required variable {name!r} is not set")
    for probe in ("readiness", "liveness"):
        path = ((spec.get("checks") or {}).get(probe) or {}).get("httpGet", {}).get("path")
        if path != "/health":
            errors.append(f"checks.{probe}.httpGet.path is {path!r}, not '/health'")
    if not (spec.get("runtimeConfig") or {}).get("loadFromSecret"):
        errors.append("runtimeConfig.loadFromSecret is not set (the Redis key-value store)")
    return errors


def check_core(obj):
    try:
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        path = "/".join(str(p) for p in error.path) or "(top)"
        return [f"kubernetes {K8S_VERSION}: {path}: {error.message}"]
    except kubernetes_validate.SchemaNotFoundError as error:
        return [f"no Kubernetes {K8S_VERSION} schema: {error}"]
    return []


def check_scaledobject(obj):
    spec = obj.get("spec") or {}
    errors = []
    if not (spec.get("scaleTargetRef") or {}).get("name"):
        errors.append("spec.scaleTargetRef.name is missing")
    triggers = spec.get("triggers")
    if not isinstance(triggers, list) or not triggers:
        errors.append("spec.triggers is empty")
    else:
        for i, trigger in enumerate(triggers):
            if not isinstance(trigger, dict) or not trigger.get("type"):
                errors.append(f"spec.triggers[{i}].type is missing")
    return errors


def check_references(objs):
    """What an object names must be in the same rendering."""
    errors = []
    by_kind = {}
    for obj in objs:
        by_kind.setdefault(obj.get("kind"), set()).add((obj.get("metadata") or {}).get("name"))
    apps = by_kind.get("SpinApp", set())
    # The operator makes a Deployment and a Service named as the SpinApp.
    deployments = by_kind.get("Deployment", set()) | apps
    services = by_kind.get("Service", set()) | apps
    for obj in objs:
        kind, name = obj.get("kind"), (obj.get("metadata") or {}).get("name")
        spec = obj.get("spec") or {}
        if kind in ("HorizontalPodAutoscaler", "ScaledObject"):
            target = (spec.get("scaleTargetRef") or {}).get("name")
            if target not in deployments:
                errors.append(f"{kind} {name}: scales {target!r}, which is no Deployment here")
        if kind == "Ingress":
            for rule in spec.get("rules") or []:
                for path in (rule.get("http") or {}).get("paths") or []:
                    service = ((path.get("backend") or {}).get("service") or {}).get("name")
                    if service not in services:
                        errors.append(f"Ingress {name}: backend {service!r} is no Service here")
        if kind == "SpinApp":
            errors += check_runtime_config(objs, spec)
    return errors


def check_runtime_config(objs, spec):
    """A runtime-config Secret rendered here (the dev overlay's) must hold
    Spin's runtime config with Redis as the `default` store."""
    wanted = (spec.get("runtimeConfig") or {}).get("loadFromSecret")
    for obj in objs:
        if obj.get("kind") != "Secret" or (obj.get("metadata") or {}).get("name") != wanted:
            continue
        data = obj.get("data") or {}
        if "runtime-config.toml" not in data:
            return [f"Secret {wanted}: no key runtime-config.toml"]
        text = base64.b64decode(data["runtime-config.toml"]).decode()
        store = tomllib.loads(text).get("key_value_store", {}).get("default", {})
        if store.get("type") != "redis":
            return [f"Secret {wanted}: [key_value_store.default] type is {store.get('type')!r}, not 'redis'"]
    return []


def check_objects(objs, schemas, variables):
    errors = []
    for obj in objs:
        if not isinstance(obj, dict):
            errors.append(f"not an object: {obj!r}")
            continue
        label = f"{obj.get('kind')} {(obj.get('metadata') or {}).get('name')}"
        api = obj.get("apiVersion", "")
        if obj.get("kind") == "SpinApp" or api.startswith("core.spinkube.dev/"):
            found = check_spinapp(obj, schemas, variables)
        elif api.startswith("keda.sh/"):
            found = check_scaledobject(obj)
        else:
            found = check_core(obj)
        errors += [f"{label}: {e}" for e in found]
    return errors + check_references(objs)


def load(path):
    with open(path) as f:
        return [obj for obj in yaml.safe_load_all(f) if obj is not None]


def first(objs, kind):
    for obj in objs:
        if obj.get("kind") == kind:
            return obj
    raise SystemExit(f"self-test: no {kind} in the rendering")


def breakages():
    """Ways to break a copy of the objects; each must be refused."""

    def spinapp(objs):
        return first(objs, "SpinApp")["spec"]

    def wrong_field(objs):
        spec = spinapp(objs)
        spec["executer"] = spec.pop("executor")

    def missing_required(objs):
        del spinapp(objs)["image"]

    def wrong_type(objs):
        spinapp(objs)["checks"]["readiness"]["periodSeconds"] = "five"

    def nested_wrong_field(objs):
        spinapp(objs)["runtimeConfig"]["loadFromSecrets"] = spinapp(objs)["runtimeConfig"].pop("loadFromSecret")

    def secret_as_value(objs):
        for var in spinapp(objs)["variables"]:
            if var["name"] == "jwt_secret":
                var.pop("valueFrom")
                var["value"] = "in-the-manifest"

    def unknown_variable(objs):
        spinapp(objs)["variables"].append({"name": "jwt_secrett", "value": "x"})

    def replicas_with_autoscaling(objs):
        spec = spinapp(objs)
        spec["enableAutoscaling"] = True
        spec["replicas"] = 3

    def ingress_wrong_field(objs):
        backend = first(objs, "Ingress")["spec"]["rules"][0]["http"]["paths"][0]["backend"]
        backend["servce"] = backend.pop("service")

    def ingress_wrong_type(objs):
        first(objs, "Ingress")["metadata"]["annotations"] = {"nginx.ingress.kubernetes.io/limit-rps": 30}

    def job_missing_required(objs):
        del first(objs, "Job")["spec"]["template"]["spec"]["containers"][0]["name"]

    def dangling_backend(objs):
        first(objs, "Ingress")["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] = "nowhere"

    # (what, how, a phrase the refusal must contain: refused for its reason).
    return [
        ("SpinApp field misspelt (executer)", wrong_field, "'executer' was unexpected"),
        ("SpinApp required field missing (image)", missing_required, "'image' is a required property"),
        ("SpinApp wrong type (periodSeconds: \"five\")", wrong_type, "'five' is not of type 'integer'"),
        ("SpinApp nested field misspelt (loadFromSecrets)", nested_wrong_field, "'loadFromSecrets' was unexpected"),
        ("secret variable as a plain value", secret_as_value, "'jwt_secret' is secret in spin.toml"),
        ("variable not in spin.toml", unknown_variable, "'jwt_secrett' is not in spin.toml"),
        ("replicas with enableAutoscaling", replicas_with_autoscaling, "replicas is set with enableAutoscaling"),
        ("Ingress field misspelt (servce)", ingress_wrong_field, "'servce' was unexpected"),
        ("Ingress annotation not a string", ingress_wrong_type, "30 is not of type 'string'"),
        ("Job container without its required name", job_missing_required, "'name' is a required property"),
        ("Ingress backend naming no Service", dangling_backend, "backend 'nowhere' is no Service here"),
    ]


def main(argv):
    if len(argv) < 5 or argv[1] not in ("check", "self-test"):
        print(__doc__, file=sys.stderr)
        return 2
    mode, crd_dir, spin_toml, files = argv[1], argv[2], argv[3], argv[4:]
    schemas = load_crd_schemas(crd_dir)
    if (SPINAPP_API, "SpinApp") not in schemas:
        print(f"k8s-validate: no SpinApp {SPINAPP_API} schema in {crd_dir}", file=sys.stderr)
        return 1
    variables = spin_variables(spin_toml)
    if mode == "check":
        failed = False
        for path in files:
            objs = load(path)
            errors = check_objects(objs, schemas, variables)
            for error in errors:
                print(f"{path}: {error}", file=sys.stderr)
            failed |= bool(errors)
            kinds = ", ".join(sorted({o.get("kind", "?") for o in objs}))
            print(f"k8s-validate: {os.path.basename(path)}: {len(objs)} objects ({kinds}): "
                  f"{'FAILED' if errors else 'valid'}")
        return 1 if failed else 0
    good = load(files[0])
    if check_objects(good, schemas, variables):
        print("self-test: the unbroken rendering is refused; run `check` first", file=sys.stderr)
        return 1
    missed = []
    for what, breaker, reason in breakages():
        broken = copy.deepcopy(good)
        breaker(broken)
        errors = check_objects(broken, schemas, variables)
        because = [e for e in errors if reason in e]
        print(f"k8s-validate: self-test: {what}: {'refused: ' + because[0] if because else 'NOT REFUSED'}")
        if not because:
            missed.append(what)
    if missed:
        print(f"self-test: not refused: {', '.join(missed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
