"""Schemathesis hooks of scripts/contract-fuzz.sh (loaded through
schemathesis.toml's `hooks`).

The fuzzer must not end the identity it runs as halfway through a run: every
later request would get a conformant 401 or 403 and test nothing. The script
runs `logout` apart; this takes out the other two ways. With the run's own
id (from `getCurrentUser` or a `listUsers` page) the caller may delete its
own account, and the admin may change its own role once it has promoted
another account (the last admin cannot). So a `DELETE /api/users/{id}`, or a
`PATCH /api/users/{id}` that sets `role`, aimed at the run's own account
(`FUZZ_OWN_ID`) goes to an id nobody has instead, and is checked as that (a
404). `infra/host/tests/users.rs` covers deleting oneself and the last
admin.
"""

import os

import schemathesis

OWN_ID = os.environ.get("FUZZ_OWN_ID", "")
NOBODY = "00000000-0000-4000-8000-000000000000"


@schemathesis.hook
def before_call(context, case, kwargs):
    if not OWN_ID or case.path != "/api/users/{id}":
        return
    if str(case.path_parameters.get("id", "")).lower() != OWN_ID:
        return
    sets_role = isinstance(case.body, dict) and "role" in case.body
    if case.method.upper() == "DELETE" or (case.method.upper() == "PATCH" and sets_role):
        case.path_parameters["id"] = NOBODY
