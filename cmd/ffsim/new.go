package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
)

func newNewCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "new NAME",
		Short: "Write a new scenario file NAME.yaml to start from",
		Long: `Write NAME.yaml (NAME may include a directory): a scenario that passes as
written, with a commented example of each common step to uncomment and
adapt. It refuses to overwrite a file. The first line points editors at the
JSON Schema for completion: docs/scenario.schema.json when NAME is inside an
ffsim checkout, else scenario.schema.json beside it (ffsim schema -o writes it).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
			if !strings.HasSuffix(path, ".yaml") && !strings.HasSuffix(path, ".yml") {
				path += ".yaml"
			}
			name := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(path), ".yaml"), ".yml")
			body := fmt.Sprintf(scaffold, schemaRef(filepath.Dir(path)), strings.ReplaceAll(name, "_", " "))
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
			if errors.Is(err, fs.ErrExist) {
				return invalid("%s already exists; not overwriting it", path)
			}
			if err != nil {
				return invalid("%v", err)
			}
			if _, err := f.WriteString(body); err != nil {
				f.Close()
				os.Remove(path)
				return invalid("writing %s: %v", path, err)
			}
			if err := f.Close(); err != nil {
				return invalid("writing %s: %v", path, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: run it with ffsim run %s\n", path, path)
			return nil
		},
	}
}

// schemaRef is the schema path for a scenario in dir: the checkout's
// docs/scenario.schema.json when dir is inside one, else a file beside it.
func schemaRef(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "scenario.schema.json"
	}
	for d := abs; ; d = filepath.Dir(d) {
		s := filepath.Join(d, "docs", "scenario.schema.json")
		if _, err := os.Stat(s); err == nil {
			if rel, err := filepath.Rel(abs, s); err == nil {
				return filepath.ToSlash(rel)
			}
		}
		if filepath.Dir(d) == d {
			return "scenario.schema.json"
		}
	}
}

// scaffold is the new scenario: %s is the schema path, %s the name.
const scaffold = `# yaml-language-server: $schema=%s
name: %s
description: "What this scenario shows, and which SPEC rules it checks."
seed: 1
supervisor:
  budget_reset_interval: 5s
  # worker_registry_ttl_interval: 30s   # enables the TTL sweep reconciler
# store: {busy_timeout: 5s}            # R3b's wait for a held write lock
budgets:
  - id: b1
    scope: {type: flow, id: flow-1}
    enforcement_mode: strict
    on_hard_limit: fail
    on_soft_limit: warn
    reset_interval: 10s
    dimensions:
      tokens: {hard: 1000, soft: 800}
steps:
  - report_usage: {budget: b1, usage: {tokens: 300}}
    expect: ok
  - spawn: {}
  - advance: 10s
  - expect_ticks: {budget_reset: {count: 2, processed: 1}}
  - expect_budget: {b1: {usage: {tokens: 0}, next_reset_at: 20s}}
  # Faults, armed before the moment they act:
  # - slow_tick: {reconciler: budget_reset, tick: 3, duration: 2s, where: inside_tx}
  # - tick_error: {reconciler: budget_reset, tick: 4}
  # - busy: {attempts: 2}                  # the next 2 write attempts get SQLITE_BUSY
  # - hold_write_lock: {duration: 300ms}   # another connection holds the lock
  # Admin calls:
  # - reset_budget: {budget: b1}
  #   expect: {next_reset_at: 20s}
  # - create_budget: {id: b2, reset_interval: 1m, dimensions: {calls: {hard: 10, soft: 0}}}
  # Worker registry:
  # - register_worker: {instance: i1, worker_id: w1, ttl: 30s}
  #   expect: registered
  # - heartbeat_worker: {instance: i1}
  # Several things at one instant, in an order the seed picks:
  # - concurrently:
  #     - reset_budget: {budget: b1}
  #     - scan_tick: {}
  - shutdown: {grace: 1s}
    expect: {timed_out: 0}
  - expect_running: 0
`
