#!/usr/bin/env bash
# Validate openapi.yaml (or the files given as arguments) against the
# OpenAPI 3.1 specification with a pinned openapi-spec-validator.
#
# Needs only python3 (with the venv module) and network access to PyPI on the
# first run; the tool is installed into target/openapi-venv and reused.
# Exit status: 0 when every file is valid, non-zero otherwise.
set -euo pipefail

VALIDATOR_VERSION="0.9.0"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${repo_root}/target/openapi-venv"

if [[ $# -gt 0 ]]; then
    specs=("$@")
else
    specs=("${repo_root}/openapi.yaml")
fi

# shellcheck source=lib/pinned-venv.sh
source "${repo_root}/scripts/lib/pinned-venv.sh"
pinned_venv "${venv}" openapi-spec-validator "${VALIDATOR_VERSION}"

status=0
for spec in "${specs[@]}"; do
    if [[ ! -f "${spec}" ]]; then
        echo "openapi: FAIL ${spec}: no such file" >&2
        status=1
        continue
    fi
    # YAML forbids duplicate keys, but PyYAML (and so the validator) keeps
    # the last one silently; other tools (openapi-typescript) refuse the file.
    if ! dup="$("${venv}/bin/python" - "${spec}" <<'PY' 2>&1
import sys, yaml
class Strict(yaml.SafeLoader):
    pass
def mapping(loader, node, deep=False):
    keys = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in keys:
            raise SystemExit(f"duplicate key {key!r} at line {key_node.start_mark.line + 1}")
        keys.add(key)
    return loader.construct_mapping(node, deep)
Strict.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
yaml.load(open(sys.argv[1]), Loader=Strict)
PY
)"; then
        echo "openapi: FAIL ${spec}: ${dup}" >&2
        status=1
        continue
    fi
    if output="$("${venv}/bin/openapi-spec-validator" --schema 3.1 "${spec}" 2>&1)"; then
        echo "openapi: OK ${spec} is a valid OpenAPI 3.1 document (openapi-spec-validator ${VALIDATOR_VERSION})"
    else
        # The validator can echo the whole document; keep the head of its report.
        head -n 20 <<<"${output}" | cut -c 1-240 >&2
        lines="$(wc -l <<<"${output}")"
        if (( lines > 20 )); then
            echo "  ... ($((lines - 20)) more lines of validator output omitted)" >&2
        fi
        echo "openapi: FAIL ${spec} is not a valid OpenAPI 3.1 document (openapi-spec-validator ${VALIDATOR_VERSION})" >&2
        status=1
    fi
done
exit "${status}"
