#!/usr/bin/env bash
# Build nsqd and its companions (the demo's and the tests' NSQ) into .tools/bin/.
#
#   .tools/bin/nsqd, nsqlookupd, nsq_tail   from tools/nsq      (github.com/nsqio/nsq)
#
# The MongoDB test server (FerretDB v2 on PostgreSQL + DocumentDB) is built apart, by
# scripts/build-mongo-server.sh: it takes minutes once, and the demo does not use it.
#
# A binary is rebuilt only when it is missing or older than its module's
# go.mod, go.sum or *.go files; otherwise it is reported as up to date.
# Needs Go >= 1.21 (nsq's go.mod). Modules are fetched from the Go module
# proxy on first use; go.sum is committed, so default flags (-mod=readonly)
# suffice. The Go build cache stays in its default location.
#
# Environment: GO=/path/to/go to pick a specific toolchain.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN_DIR="$ROOT/.tools/bin"

die() {
    echo "build-tools: error: $*" >&2
    exit 1
}

# Locate go: $GO, then PATH, then the usual install location.
if [[ -z "${GO:-}" ]]; then
    if command -v go >/dev/null 2>&1; then
        GO="$(command -v go)"
    elif [[ -x /usr/local/go/bin/go ]]; then
        GO=/usr/local/go/bin/go
    fi
fi
if [[ -z "${GO:-}" || ! -x "$GO" ]]; then
    die "'go' not found (install Go >= 1.24, put it on PATH, or set GO=/path/to/go)"
fi

mkdir -p "$BIN_DIR"

# needs_build BIN MODULE_DIR: true if BIN is missing or older than any module file.
needs_build() {
    local bin="$1" mod="$2"
    [[ -x "$bin" ]] || return 0
    [[ -n "$(find "$mod" -maxdepth 1 -type f \( -name go.mod -o -name go.sum -o -name '*.go' \) -newer "$bin" -print -quit)" ]]
}

# build_tool NAME MODULE_DIR PACKAGE
build_tool() {
    local name="$1" mod="$ROOT/tools/$2" pkg="$3"
    local bin="$BIN_DIR/$name"

    [[ -f "$mod/go.mod" ]] || die "$mod/go.mod is missing"

    if ! needs_build "$bin" "$mod"; then
        echo "$name: up to date ($bin)"
        return 0
    fi

    # Build to a temporary name, then move into place, so that an interrupted
    # or concurrent build never leaves a half-written binary behind.
    local tmp="$bin.tmp.$$"
    local start=$SECONDS
    if ! (cd "$mod" && CGO_ENABLED=0 "$GO" build -o "$tmp" "$pkg"); then
        rm -f "$tmp"
        die "building $name ($pkg in tools/$2) failed; see the go output above"
    fi
    mv -f "$tmp" "$bin"
    echo "$name: built ($bin, $((SECONDS - start))s)"
}

build_tool nsqd       nsq      github.com/nsqio/nsq/apps/nsqd
build_tool nsqlookupd nsq      github.com/nsqio/nsq/apps/nsqlookupd
build_tool nsq_tail   nsq      github.com/nsqio/nsq/apps/nsq_tail
