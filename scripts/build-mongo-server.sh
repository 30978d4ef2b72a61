#!/usr/bin/env bash
# Build TaskDash's MongoDB test server: FerretDB v2.5.0 on PostgreSQL 15 + DocumentDB.
#
#   Debian packages    PostgreSQL 15 and its server headers, libbson, Intel's decimal library,
#                      PostGIS, RUM (apt-get install, only those missing)
#   pgvector  v0.8.0   \
#   pg_cron   v1.6.3    > built and installed into the system PostgreSQL 15 (PGXS `make install`)
#   DocumentDB v0.106.0-ferretdb-2.5.0 (FerretDB's fork; the version FerretDB v2.5.0 expects)
#   .tools/bin/ferretdb   from tools/ferretdb (github.com/FerretDB/FerretDB/v2 v2.5.0, Go proxy)
#
# Sources: the tarballs in ../shared/vendor/ (or $TASKDASH_VENDOR_DIR) when that folder exists,
# each checked against the sha256 below (a mismatch stops the build); otherwise the same tags
# are downloaded from the projects' GitHub repositories (needs internet; GitHub's archives are
# not the vendored files, so their sha256 is printed and recorded, not compared).
# tools/documentdb/libbson-1.23.patch lets DocumentDB build against Debian 12's libbson 1.23.
#
# Once per machine: each extension leaves a stamp (tag and sha256 of its source) in
# $(pg_config --sharedir)/taskdash-build/, and the FerretDB binary one with the sha256 of
# tools/ferretdb's files; a second run finds them and builds nothing.
# Needs root (or sudo) for apt-get and make install, and Go >= 1.24 (GO=/path/to/go to pick one).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN_DIR="$ROOT/.tools/bin"
VENDOR_DIR="${TASKDASH_VENDOR_DIR:-$ROOT/../shared/vendor}"
PG_MAJOR=15
PG_CONFIG="/usr/lib/postgresql/$PG_MAJOR/bin/pg_config"
LOCK_FILE="/tmp/taskdash-build-mongo-server.lock"

APT_PACKAGES=(
    build-essential pkg-config curl xz-utils patch
    "postgresql-$PG_MAJOR" "postgresql-server-dev-$PG_MAJOR" "postgresql-$PG_MAJOR-postgis-3"
    "postgresql-$PG_MAJOR-rum" libbson-dev libintelrdfpmath-dev libpcre2-dev libicu-dev
    libkrb5-dev libssl-dev
)

# name | tag | vendored tarball | its sha256 | GitHub repository
SOURCES=(
    "pgvector|v0.8.0|pgvector-v0.8.0.tar.xz|076754740a92044fd9c2adbcad06cff9b6227bded7994eebff7b63cfc3cea0c0|pgvector/pgvector"
    "pg_cron|v1.6.3|pg_cron-v1.6.3.tar.xz|56fc9a66ff31629e683e71ae6271f1890b76bc078874a567799dabee6681853c|citusdata/pg_cron"
    "documentdb|v0.106.0-ferretdb-2.5.0|documentdb-v0.106.0-ferretdb-2.5.0.tar.xz|89d121cea1eba6da9c28925e76fe827609c82b65f69a23e3a1d4245e955d7b9b|FerretDB/documentdb"
)

die() {
    echo "build-mongo-server: error: $*" >&2
    exit 1
}

say() {
    echo "mongo-server: $*"
}

# Privileged steps run as root directly, or through sudo for a developer's account.
if [[ $EUID -eq 0 ]]; then
    AS_ROOT=()
elif command -v sudo >/dev/null 2>&1; then
    AS_ROOT=(sudo)
else
    die "needs root or sudo (apt-get install, make install into PostgreSQL $PG_MAJOR)"
fi

# A second build started meanwhile (another checkout, make -j) waits instead of racing.
# (Read-only when another account created the lock file: flock needs only an open descriptor.)
if ! { exec 9>>"$LOCK_FILE"; } 2>/dev/null; then
    exec 9<"$LOCK_FILE"
fi
flock 9

install_packages() {
    local missing=() pkg
    for pkg in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$pkg")
    done
    if [[ ${#missing[@]} -eq 0 ]]; then
        say "Debian packages: all installed"
        return 0
    fi
    say "Debian packages: installing ${missing[*]}"
    "${AS_ROOT[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${AS_ROOT[@]}" apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
}

install_packages
[[ -x "$PG_CONFIG" ]] || die "$PG_CONFIG is missing after installing postgresql-$PG_MAJOR"
STAMP_DIR="$("$PG_CONFIG" --sharedir)/taskdash-build"

BUILD_DIR=""
cleanup() {
    if [[ -n "$BUILD_DIR" ]]; then
        rm -rf "$BUILD_DIR"
    fi
}
trap cleanup EXIT

# fetch_source NAME TAG FILE SHA256 REPO DEST: unpack the source into DEST, print its sha256.
fetch_source() {
    local name="$1" tag="$2" file="$3" sha="$4" repo="$5" dest="$6" archive actual
    mkdir -p "$dest"
    if [[ -d "$VENDOR_DIR" ]]; then
        archive="$VENDOR_DIR/$file"
        [[ -f "$archive" ]] || die "$archive is missing (the vendor folder $VENDOR_DIR exists)"
        actual="$(sha256sum "$archive" | cut -d' ' -f1)"
        [[ "$actual" == "$sha" ]] || die "$archive: sha256 $actual, expected $sha; refusing to build it"
        tar -xJf "$archive" -C "$dest" --strip-components=1
    else
        archive="$BUILD_DIR/$name.tar.gz"
        echo "mongo-server: $name: downloading https://github.com/$repo/archive/refs/tags/$tag.tar.gz" >&2
        curl -fsSL --retry 3 -o "$archive" "https://github.com/$repo/archive/refs/tags/$tag.tar.gz" \
            || die "downloading $repo $tag failed (no internet? put the tarballs in $VENDOR_DIR)"
        actual="$(sha256sum "$archive" | cut -d' ' -f1)"
        tar -xzf "$archive" -C "$dest" --strip-components=1
    fi
    echo "$actual"
}

# up_to_date NAME TAG SHA256 FILE...: the stamp matches and the installed files are there.
up_to_date() {
    local name="$1" tag="$2" sha="$3" stamp file
    shift 3
    stamp="$STAMP_DIR/$name.stamp"
    [[ -f "$stamp" ]] || return 1
    grep -qx "tag=$tag" "$stamp" || return 1
    # With the vendor folder, the stamp must name the very tarball that is there.
    if [[ -d "$VENDOR_DIR" ]]; then
        grep -qx "sha256=$sha" "$stamp" || return 1
    fi
    for file in "$@"; do
        [[ -e "$file" ]] || return 1
    done
}

# build_extension NAME: build and install one extension of SOURCES unless its stamp is current.
build_extension() {
    local wanted="$1" entry name tag file sha repo src actual start=$SECONDS
    local pkglib sharedir
    pkglib="$("$PG_CONFIG" --pkglibdir)"
    sharedir="$("$PG_CONFIG" --sharedir)"
    for entry in "${SOURCES[@]}"; do
        IFS='|' read -r name tag file sha repo <<<"$entry"
        [[ "$name" == "$wanted" ]] && break
    done
    local -a installed
    case "$name" in
        pgvector) installed=("$pkglib/vector.so" "$sharedir/extension/vector.control") ;;
        pg_cron) installed=("$pkglib/pg_cron.so" "$sharedir/extension/pg_cron--1.5--1.6.sql") ;;
        documentdb) installed=("$pkglib/pg_documentdb.so" "$pkglib/pg_documentdb_core.so"
            "$sharedir/extension/documentdb.control") ;;
    esac
    if up_to_date "$name" "$tag" "$sha" "${installed[@]}"; then
        say "$name $tag: up to date (stamp $STAMP_DIR/$name.stamp)"
        return 0
    fi

    [[ -n "$BUILD_DIR" ]] || BUILD_DIR="$(mktemp -d -t taskdash-mongo-build.XXXXXX)"
    src="$BUILD_DIR/$name"
    actual="$(fetch_source "$name" "$tag" "$file" "$sha" "$repo" "$src")"
    local -a make_args=(PG_CONFIG="$PG_CONFIG")
    if [[ "$name" == documentdb ]]; then
        (cd "$src" && patch -p1 --quiet <"$ROOT/tools/documentdb/libbson-1.23.patch") \
            || die "applying tools/documentdb/libbson-1.23.patch failed"
        # Debian's Intel decimal library has no pkg-config file; DocumentDB's Makefile asks for one.
        mkdir -p "$BUILD_DIR/pkgconfig"
        printf '%s\n' "Name: intelmathlib" "Description: Intel decimal floating-point math library" \
            "Version: 2.0" "Cflags: -I/usr/include" \
            "Libs: -L/usr/lib/$(gcc -print-multiarch) -lbidgcc000" >"$BUILD_DIR/pkgconfig/intelmathlib.pc"
        export PKG_CONFIG_PATH="$BUILD_DIR/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
        for dir in pg_documentdb_core pg_documentdb; do
            make -s -C "$src/$dir" -j"$(nproc)" "${make_args[@]}" >"$BUILD_DIR/$name-$dir.log" 2>&1 \
                || { tail -n 40 "$BUILD_DIR/$name-$dir.log" >&2; die "building $name ($dir) failed"; }
        done
        for dir in pg_documentdb_core pg_documentdb; do
            "${AS_ROOT[@]}" env PKG_CONFIG_PATH="$PKG_CONFIG_PATH" make -s -C "$src/$dir" \
                "${make_args[@]}" install >>"$BUILD_DIR/$name-$dir.log" 2>&1 \
                || { tail -n 40 "$BUILD_DIR/$name-$dir.log" >&2; die "installing $name ($dir) failed"; }
        done
    else
        make -s -C "$src" -j"$(nproc)" "${make_args[@]}" >"$BUILD_DIR/$name.log" 2>&1 \
            || { tail -n 40 "$BUILD_DIR/$name.log" >&2; die "building $name failed"; }
        "${AS_ROOT[@]}" make -s -C "$src" "${make_args[@]}" install >>"$BUILD_DIR/$name.log" 2>&1 \
            || { tail -n 40 "$BUILD_DIR/$name.log" >&2; die "installing $name failed"; }
    fi
    "${AS_ROOT[@]}" mkdir -p "$STAMP_DIR"
    printf 'tag=%s\nsha256=%s\n' "$tag" "$actual" | "${AS_ROOT[@]}" tee "$STAMP_DIR/$name.stamp" >/dev/null
    say "$name $tag: built and installed into PostgreSQL $PG_MAJOR ($((SECONDS - start))s, sha256 $actual)"
}

build_extension pgvector
build_extension pg_cron
build_extension documentdb

# The FerretDB wrapper, rebuilt only when tools/ferretdb's files change (their sha256 is the stamp).
if [[ -z "${GO:-}" ]]; then
    if command -v go >/dev/null 2>&1; then
        GO="$(command -v go)"
    elif [[ -x /usr/local/go/bin/go ]]; then
        GO=/usr/local/go/bin/go
    fi
fi
[[ -n "${GO:-}" && -x "$GO" ]] || die "'go' not found (install Go >= 1.24, put it on PATH, or set GO=/path/to/go)"

mkdir -p "$BIN_DIR"
FERRETDB_BIN="$BIN_DIR/ferretdb"
FERRETDB_SUM="$(cd "$ROOT/tools/ferretdb" && cat go.mod go.sum ./*.go | sha256sum | cut -d' ' -f1)"
if [[ -x "$FERRETDB_BIN" && "$(cat "$FERRETDB_BIN.sha256" 2>/dev/null)" == "$FERRETDB_SUM" ]]; then
    say "ferretdb: up to date ($FERRETDB_BIN)"
else
    start=$SECONDS
    tmp="$FERRETDB_BIN.tmp.$$"
    if ! (cd "$ROOT/tools/ferretdb" && CGO_ENABLED=0 "$GO" build -o "$tmp" .); then
        rm -f "$tmp"
        die "building ferretdb (tools/ferretdb) failed; see the go output above"
    fi
    mv -f "$tmp" "$FERRETDB_BIN"
    echo "$FERRETDB_SUM" >"$FERRETDB_BIN.sha256"
    say "ferretdb: built ($FERRETDB_BIN, $((SECONDS - start))s)"
fi
