//go:build tools

// Package tools records the nsq commands built by scripts/build-tools.sh so
// that `go mod tidy` keeps their dependencies in go.mod/go.sum.
package tools

import (
	_ "github.com/nsqio/nsq/apps/nsq_tail"
	_ "github.com/nsqio/nsq/apps/nsqd"
	_ "github.com/nsqio/nsq/apps/nsqlookupd"
)
