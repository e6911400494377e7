# pinned_venv VENV PACKAGE VERSION: make sure VENV is a working Python venv
# with exactly PACKAGE==VERSION installed (from PyPI, quietly, only when it
# is missing or another version). Sourced by validate-openapi.sh and
# contract-fuzz.sh; $PYTHON (default python3) makes the venv.
#
# Where the interpreter has no ensurepip (Debian without python3-venv), the
# venv is made without pip and filled with the system pip (`pip --python`,
# pip >= 22.3).
pinned_venv() {
    local venv="$1" package="$2" version="$3" python="${PYTHON:-python3}" installed
    if [[ ! -x "${venv}/bin/python" ]] || ! "${venv}/bin/python" -c '' 2>/dev/null; then
        rm -rf "${venv}"
        mkdir -p "$(dirname "${venv}")"
        if ! "${python}" -m venv "${venv}" >/dev/null 2>&1; then
            rm -rf "${venv}"
            "${python}" -m venv --without-pip "${venv}"
        fi
    fi
    local pip=("${venv}/bin/python" -m pip)
    if ! "${venv}/bin/python" -m pip --version >/dev/null 2>&1; then
        pip=("${python}" -m pip --python "${venv}/bin/python")
    fi
    installed="$("${venv}/bin/python" -c \
        "import importlib.metadata as m; print(m.version('${package}'))" 2>/dev/null || true)"
    if [[ "${installed}" != "${version}" ]]; then
        echo "installing ${package} ${version} into ${venv}" >&2
        "${pip[@]}" install --quiet --disable-pip-version-check --no-input \
            "${package}==${version}" >&2
    fi
}
