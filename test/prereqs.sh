#!/usr/bin/env bash
# `npm test`'s pretest: the three things the suite needs from outside npm, installed when this
# user can (root with apt-get, as on CI and a fresh machine of this kind), otherwise named with
# the exact command to run. npm cannot ship them: dlib's landmark model comes from Debian's
# `libdlib-data`, the browser test drives Debian's `chromium` (playwright-core downloads none),
# and the cache and queue tests talk to a real Redis on 127.0.0.1.
set -euo pipefail

DLIB_MODEL=/usr/share/dlib/shape_predictor_68_face_landmarks.dat
missing=()
[ -f "$DLIB_MODEL" ] || missing+=(libdlib-data)
[ -x /usr/bin/chromium ] || missing+=(chromium fonts-noto-color-emoji)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "pretest: installing Debian packages the tests need: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "pretest: the tests need Debian packages that are not installed: ${missing[*]}" >&2
    echo "pretest: run   sudo apt-get update && sudo apt-get install -y ${missing[*]}   then npm test again" >&2
    exit 1
  fi
fi

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  if redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    >/dev/null 2>&1; then
    # redis-server returns before it listens; give it a moment.
    for _ in $(seq 50); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.1; done
  fi
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    echo "pretest: no Redis answers on 127.0.0.1:6379 and starting one failed;" >&2
    echo "pretest: run   redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save ''   then npm test again" >&2
    exit 1
  fi
fi
