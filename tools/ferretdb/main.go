// Command ferretdb is a minimal wrapper around FerretDB's embeddable package
// (github.com/FerretDB/FerretDB/ferretdb), used as a MongoDB-compatible test
// server backed by SQLite. It is built by scripts/build-tools.sh into
// .tools/bin/ferretdb.
//
// Why a wrapper: FerretDB's own cmd/ferretdb panics when built from the module
// cache (`go install`) because build/version/version.txt is missing. The
// embeddable package skips reading version.txt whenever the main module is not
// github.com/FerretDB/FerretDB, so no build tags or ldflags are needed here.
//
// Telemetry: the embeddable package never creates the telemetry reporter (that
// lives only in cmd/ferretdb, which is not linked in), and ferretdb.New also
// disables and locks telemetry in its in-memory state, so nothing here reaches
// the network. Tracing exporters (OTLP) are likewise only set up by
// cmd/ferretdb; the OpenTelemetry global tracer stays the no-op default.
//
// Shutdown: SIGTERM or SIGINT cancels the context given to Run; FerretDB then
// closes its listener and gives clients that are still connected up to 3
// seconds to disconnect before closing them, and the process exits 0.
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

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listenAddr := flag.String("listen-addr", "127.0.0.1:27017", "TCP `HOST:PORT` to listen on")
	sqliteURL := flag.String("sqlite-url", "file:data/", "SQLite URI of the data `DIRECTORY` (must end with /)")
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

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(logger)

	if err := run(logger, *listenAddr, *sqliteURL); err != nil {
		logger.Error("ferretdb failed", "error", err)
		os.Exit(1)
	}
}

func run(logger *slog.Logger, listenAddr, sqliteURL string) error {
	if listenAddr == "" {
		return errors.New("--listen-addr must not be empty")
	}

	// The SQLite handler expects a directory; create it if it is a plain
	// relative or absolute path (file:DIR/ without query parameters).
	if dir, ok := strings.CutPrefix(sqliteURL, "file:"); ok && !strings.Contains(dir, "?") && dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("creating SQLite directory: %w", err)
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	f, err := ferretdb.New(&ferretdb.Config{
		Listener: ferretdb.ListenerConfig{
			TCP: listenAddr,
		},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: sqliteURL,
	})
	if err != nil {
		return err
	}

	logger.Info("ferretdb listening", "uri", f.MongoDBURI(), "sqlite_url", sqliteURL)

	if err := f.Run(ctx); err != nil {
		return err
	}

	logger.Info("ferretdb stopped")

	return nil
}
