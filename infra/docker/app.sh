#!/bin/sh
# The app image's entrypoint (infra/compose.yaml runs each service's job as
# one of these commands).
#
#   app.sh up              spinstack up on 0.0.0.0:3000 with every backing
#                          service from SPIN_VARIABLE_* and the Redis URL
#                          from SPINSTACK_REDIS_URL (a runtime-config file)
#   app.sh migrate         apply infra/migrations to SPIN_VARIABLE_DATABASE_URL
#   app.sh render-gateway  write the gateway's nginx.conf into $1 (a volume)
#   app.sh mail-catcher    the stack's mail catcher on 0.0.0.0:8025 (messages
#                          in /app/state/mail, GET /messages lists them)
#   app.sh precompile      (image build) compile the components into the image
set -eu
cd /app
compiled=/app/compiled

case "${1:-up}" in
up)
    : "${SPINSTACK_REDIS_URL:?SPINSTACK_REDIS_URL (redis://:PASSWORD@HOST:PORT/DB) is required}"
    # Spin's runtime-config format has no variables: the file is written
    # here, in the container's state directory, so the password stays out
    # of the image and of the command line.
    umask 077
    printf '[key_value_store.default]\ntype = "redis"\nurl = "%s"\n' "$SPINSTACK_REDIS_URL" \
        >/app/state/runtime-config.toml
    unset SPINSTACK_REDIS_URL
    shift || true
    # The gateway policy is enforced once, at the edge (nginx); the app's
    # own policy (infra/compose/app-gateway.toml) only keeps the body limit
    # and trusts nginx's X-Forwarded-For for the logs.
    # The one-shot `migrate` service applied the migrations before this
    # starts, so up's own migration step finds none pending.
    exec spinstack up -f /app/spin.toml --listen 0.0.0.0:3000 \
        --runtime-config-file /app/state/runtime-config.toml \
        --state-dir /app/state --cache-dir "$compiled" \
        --gateway /app/infra/compose/app-gateway.toml "$@"
    ;;
migrate)
    exec spinstack migrate -f /app/spin.toml
    ;;
mail-catcher)
    exec spinstack mail serve --listen 0.0.0.0:8025 --dir /app/state/mail
    ;;
render-gateway)
    exec /app/infra/compose/render-gateway.sh "${2:?render-gateway needs an output directory}"
    ;;
precompile)
    # Loads the app once, which fills the compile cache; the values only
    # satisfy the required variables (nothing is connected to).
    SPIN_VARIABLE_DATABASE_HOST=db:5432 SPIN_VARIABLE_S3_ENDPOINT=http://storage:9000 \
        SPIN_VARIABLE_MAIL_API_URL=http://mail.invalid \
        SPIN_VARIABLE_JWT_SECRET=precompile-only-not-a-secret-0123456789 \
        spinstack bench-instantiate -f /app/spin.toml --state-dir /tmp/precompile \
        --cache-dir "$compiled" --component health --iterations 1 >/dev/null
    rm -rf /tmp/precompile
    chmod -R a+rX "$compiled"
    echo "precompiled: $(ls "$compiled" | wc -l) components in $compiled"
    ;;
*)
    exec "$@"
    ;;
esac
