// Command ferretdb is a minimal wrapper around FerretDB v2's embeddable package
// (github.com/FerretDB/FerretDB/v2/ferretdb): the MongoDB wire protocol served
// from PostgreSQL with the DocumentDB extension, used as TaskDash's MongoDB test
// server. scripts/build-mongo-server.sh builds it into .tools/bin/ferretdb, and
// tests/ferretdb.py starts it beside a PostgreSQL cluster of its own.
//
// Why a wrapper: FerretDB's own cmd/ferretdb expects generated build files
// (build/version/version.txt) that a module-cache build lacks; the embeddable
// package reads the version from the build info instead.
//
// Telemetry is switched off explicitly (Config.Telemetry = false), so nothing
// here reaches the network; authentication is off in the embeddable package,
// which suits a loopback-only test server.
//
// Shutdown: SIGTERM or SIGINT cancels the context given to Run, which returns
// once the listener, the client connections and the PostgreSQL pool are closed;
// the process then exits 0.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/FerretDB/FerretDB/v2/ferretdb"
)

func main() {
	listenAddr := flag.String("listen-addr", "127.0.0.1:27017", "TCP `HOST:PORT` to listen on")
	postgresqlURL := flag.String("postgresql-url", "", "`URL` of the PostgreSQL database with the documentdb extension")
	stateDir := flag.String("state-dir", "", "`DIRECTORY` for FerretDB's state file")
	logLevel := flag.String("log-level", "info", "log `LEVEL`: debug, info, warn or error")
	flag.Parse()

	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "unexpected arguments: %q\n", flag.Args())
		os.Exit(2)
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(strings.ToUpper(*logLevel))); err != nil {
		fmt.Fprintf(os.Stderr, "invalid --log-level %q: %v\n", *logLevel, err)
		os.Exit(2)
	}

	if err := run(level, *listenAddr, *postgresqlURL, *stateDir); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb failed: %v\n", err)
		os.Exit(1)
	}
}

func run(level slog.Level, listenAddr, postgresqlURL, stateDir string) error {
	if listenAddr == "" || postgresqlURL == "" || stateDir == "" {
		return errors.New("--listen-addr, --postgresql-url and --state-dir are required")
	}

	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return fmt.Errorf("creating the state directory: %w", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	telemetry := false
	f, err := ferretdb.New(&ferretdb.Config{
		PostgreSQLURL: postgresqlURL,
		ListenAddr:    listenAddr,
		StateDir:      stateDir,
		LogLevel:      level,
		LogOutput:     os.Stderr,
		Telemetry:     &telemetry,
	})
	if err != nil {
		return err
	}

	f.Run(ctx)

	return nil
}
