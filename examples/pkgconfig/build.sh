#!/bin/sh
# Builds consumer.c against an installed clq with nothing but what
# `pkg-config --cflags --libs clq` says, as any program of yours would:
#
#   build.sh [OUTPUT]        writes OUTPUT (default: ./consumer)
#
# pkg-config finds clq.pc in its usual places, or where PKG_CONFIG_PATH
# says: for a prefix of your own, <prefix>/<libdir>/pkgconfig (on Debian
# and Ubuntu libdir is lib/<multiarch triplet>, e.g. lib/x86_64-linux-gnu).
# To run the program from such a prefix, LD_LIBRARY_PATH=<prefix>/<libdir>.
# CC and CFLAGS are honoured as make honours them.
set -eu
src=$(dirname "$0")/consumer.c
# CC, CFLAGS and the flags are split into words on purpose.
# shellcheck disable=SC2046,SC2086
${CC:-cc} ${CFLAGS:-} -o "${1:-consumer}" "$src" $(pkg-config --cflags --libs clq)
