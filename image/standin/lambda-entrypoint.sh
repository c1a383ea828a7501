#!/bin/sh
# Stand-in for /lambda-entrypoint.sh of public.ecr.aws/lambda/provided:al2023,
# for tests on machines that cannot pull it. Same documented contract:
#   - exactly one argument, the handler name (the image's CMD), else exit 142;
#   - export it as _HANDLER;
#   - with AWS_LAMBDA_RUNTIME_API set (as on Lambda), exec /var/runtime/bootstrap;
#     without it, run the bootstrap under the Runtime Interface Emulator
#     (aws-lambda-rie, which this stand-in lacks unless one is installed).
if [ $# -ne 1 ]; then
  echo "entrypoint requires the handler name to be the first argument" >&2
  exit 142
fi
export _HANDLER="$1"

RUNTIME_ENTRYPOINT=/var/runtime/bootstrap
if [ -n "${AWS_LAMBDA_RUNTIME_API:-}" ]; then
  exec "$RUNTIME_ENTRYPOINT"
fi
if [ -x /usr/local/bin/aws-lambda-rie ]; then
  exec /usr/local/bin/aws-lambda-rie "$RUNTIME_ENTRYPOINT"
fi
echo "stand-in base: no Runtime Interface Emulator here; set AWS_LAMBDA_RUNTIME_API" >&2
exit 1
