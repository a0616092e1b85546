package reconcilers

import (
	"context"
	"database/sql"
	"fmt"
)

// migration is one versioned schema change. Versions count from 1 and are
// recorded in SQLite's user_version, which lives in the database header and
// changes atomically with the migration's own transaction.
type migration struct {
	version int
	name    string
	// stmts run in order, one statement each.
	stmts []string
}

// migrations is the schema history. Append only: an applied migration is
// never edited, a change is a new entry.
//
// Tables are WITHOUT ROWID so the partial index's entries end with the
// primary key (partition_key, budget_id): R1's ORDER BY next_reset_at_ms,
// budget_id is then read straight off the index, without a sort.
var migrations = []migration{{
	version: 1,
	name:    "budget tables",
	stmts: []string{`
CREATE TABLE ff_budget_policy (
	partition_key     INTEGER NOT NULL DEFAULT 0,
	budget_id         TEXT    NOT NULL,
	policy_json       TEXT    NOT NULL,
	scope_type        TEXT    NOT NULL,
	scope_id          TEXT    NOT NULL,
	enforcement_mode  TEXT    NOT NULL,
	breach_count      INTEGER NOT NULL DEFAULT 0,
	soft_breach_count INTEGER NOT NULL DEFAULT 0,
	last_breach_at_ms INTEGER,
	last_breach_dim   TEXT,
	next_reset_at_ms  INTEGER,
	created_at_ms     INTEGER NOT NULL,
	updated_at_ms     INTEGER NOT NULL,
	PRIMARY KEY (partition_key, budget_id)
) WITHOUT ROWID`, `
CREATE INDEX ff_budget_policy_next_reset
	ON ff_budget_policy (partition_key, next_reset_at_ms)
	WHERE next_reset_at_ms IS NOT NULL`, `
CREATE TABLE ff_budget_usage (
	partition_key    INTEGER NOT NULL DEFAULT 0,
	budget_id        TEXT    NOT NULL,
	dimensions_key   TEXT    NOT NULL,
	current_value    INTEGER NOT NULL DEFAULT 0,
	last_reset_at_ms INTEGER NOT NULL DEFAULT 0,
	updated_at_ms    INTEGER NOT NULL,
	PRIMARY KEY (partition_key, budget_id, dimensions_key)
) WITHOUT ROWID`, `
CREATE TABLE ff_budget_usage_dedup (
	partition_key INTEGER NOT NULL DEFAULT 0,
	dedup_key     TEXT    NOT NULL,
	outcome_json  TEXT    NOT NULL,
	applied_at_ms INTEGER NOT NULL,
	expires_at_ms INTEGER NOT NULL,
	PRIMARY KEY (partition_key, dedup_key)
) WITHOUT ROWID`,
	},
}, {
	// Upstream's 0021: the worker registry and its event log.
	version: 2,
	name:    "worker registry",
	stmts: []string{`
CREATE TABLE ff_worker_registry (
	namespace          TEXT    NOT NULL,
	worker_instance_id TEXT    NOT NULL,
	worker_id          TEXT    NOT NULL,
	lanes              TEXT    NOT NULL,
	capabilities_csv   TEXT    NOT NULL,
	last_heartbeat_ms  INTEGER NOT NULL,
	liveness_ttl_ms    INTEGER NOT NULL,
	registered_at_ms   INTEGER NOT NULL,
	PRIMARY KEY (namespace, worker_instance_id)
)`, `
CREATE TABLE ff_worker_registry_event (
	namespace          TEXT    NOT NULL,
	worker_instance_id TEXT    NOT NULL,
	event_kind         TEXT    NOT NULL,
	event_at_ms        INTEGER NOT NULL,
	reason             TEXT    NULL,
	PRIMARY KEY (namespace, worker_instance_id, event_at_ms)
)`, `
CREATE INDEX ff_worker_registry_ns_inst_idx
	ON ff_worker_registry (namespace, worker_instance_id)`,
	},
}, {
	// Upstream's 0022: event_kind joins the event key, so a registration
	// and a heartbeat in the same millisecond are both kept.
	version: 3,
	name:    "worker registry event key",
	stmts: []string{`
CREATE TABLE ff_worker_registry_event_new (
	namespace          TEXT    NOT NULL,
	worker_instance_id TEXT    NOT NULL,
	event_kind         TEXT    NOT NULL,
	event_at_ms        INTEGER NOT NULL,
	reason             TEXT    NULL,
	PRIMARY KEY (namespace, worker_instance_id, event_at_ms, event_kind)
)`, `
INSERT INTO ff_worker_registry_event_new
	(namespace, worker_instance_id, event_kind, event_at_ms, reason)
	SELECT namespace, worker_instance_id, event_kind, event_at_ms, reason
	FROM ff_worker_registry_event`,
		`DROP TABLE ff_worker_registry_event`,
		`ALTER TABLE ff_worker_registry_event_new RENAME TO ff_worker_registry_event`,
	},
}}

// migrate applies, in order, every migration newer than the database's
// user_version, each in its own BEGIN IMMEDIATE transaction together with the
// user_version bump, so a failure leaves the database at the last complete
// version and a reopen (or a concurrent opener) applies each one exactly
// once. Contention is retried as for any write (R3); fault hooks are not
// consulted, since they model the running system, not its installation.
func migrate(ctx context.Context, db *sql.DB, clk Clock, list []migration) error {
	latest := 0
	for i, m := range list {
		if m.version != i+1 {
			return fmt.Errorf("migration %q has version %d, want %d", m.name, m.version, i+1)
		}
		latest = m.version
	}
	// Fast path for the usual reopen: nothing to do, no write lock taken.
	var current int
	if err := db.QueryRowContext(queryCtx(ctx), "PRAGMA user_version").Scan(&current); err != nil {
		return err
	}
	if current == latest {
		return nil
	}
	for _, m := range list {
		err := retryBusy(ctx, clk, func(ctx context.Context) error {
			return txOnce(ctx, db, "BEGIN IMMEDIATE", func(ctx context.Context, conn *sql.Conn) error {
				var current int
				if err := conn.QueryRowContext(queryCtx(ctx), "PRAGMA user_version").Scan(&current); err != nil {
					return err
				}
				if current > latest {
					return fmt.Errorf("database schema version %d is newer than this build's %d", current, latest)
				}
				if current >= m.version {
					return nil // applied earlier, or by a concurrent opener
				}
				for _, q := range m.stmts {
					if _, err := conn.ExecContext(ctx, q); err != nil {
						return err
					}
				}
				// PRAGMA takes no bound parameters; the value is our own int.
				_, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", m.version))
				return err
			})
		})
		if err != nil {
			return fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
		}
	}
	return nil
}
