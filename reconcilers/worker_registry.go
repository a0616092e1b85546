package reconcilers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
)

// The worker registry (SPEC §3b, upstream RFC-025 Phase 4): workers
// register, heartbeat and are marked dead; the worker_registry_ttl_sweep
// reconciler deletes those whose liveness TTL ran out. Every operation is
// one plain (deferred) transaction, not retried (as upstream: no
// retry_serializable); its time is the caller's, read once at the call.

// MaxDeadReasonBytes bounds a mark_worker_dead reason (upstream's
// MARK_WORKER_DEAD_REASON_MAX_BYTES).
const MaxDeadReasonBytes = 256

// Registration is a worker instance announcing itself (W1).
type Registration struct {
	Namespace string
	Instance  string
	WorkerID  string
	// Lanes and Capabilities are stored sorted, deduplicated and
	// comma-joined; a name may not hold a comma.
	Lanes        []string
	Capabilities []string
	// TTL is the liveness TTL, in whole milliseconds.
	TTL time.Duration
}

// RegisterResult says what [Store.RegisterWorker] did.
type RegisterResult int

// The results of RegisterWorker.
const (
	// Registered: the instance had no row.
	Registered RegisterResult = iota + 1
	// Refreshed: the instance was registered already; its row is replaced.
	Refreshed
)

// String returns "registered" or "refreshed", as scenarios spell them.
func (r RegisterResult) String() string {
	switch r {
	case Registered:
		return "registered"
	case Refreshed:
		return "refreshed"
	}
	return "unknown"
}

// Worker is a live ff_worker_registry row (W5).
type Worker struct {
	Namespace       string
	Instance        string
	WorkerID        string
	Lanes           []string
	Capabilities    []string
	LastHeartbeatMs int64
	TTLMs           int64
	RegisteredAtMs  int64
}

// csv joins names sorted and without duplicates, as upstream's BTreeSet.
func csv(names []string) (string, error) {
	s := slices.Clone(names)
	slices.Sort(s)
	s = slices.Compact(s)
	for _, n := range s {
		if n == "" || strings.Contains(n, ",") {
			return "", fmt.Errorf("%w: %q cannot be stored comma-joined", ErrInvalidInput, n)
		}
	}
	return strings.Join(s, ","), nil
}

func splitCSV(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// RegisterWorker registers a worker instance (W1). An instance registered
// under another worker id is ErrInvalidInput ("instance_id reassigned") and
// nothing is written. Otherwise the row is written (last heartbeat = now; a
// new row's registration time = now), a "registered" event appended, and
// the result is Refreshed when the row existed, Registered when not.
//
// The transaction reads before it writes, so when another connection holds
// the write lock it fails at once with SQLITE_BUSY: SQLite does not wait to
// upgrade a read transaction.
func (s *Store) RegisterWorker(ctx context.Context, r Registration) (RegisterResult, error) {
	if r.Namespace == "" || r.Instance == "" || r.WorkerID == "" {
		return 0, fmt.Errorf("%w: register worker: empty namespace, instance or worker id", ErrInvalidInput)
	}
	if r.TTL < 0 || r.TTL%time.Millisecond != 0 {
		return 0, fmt.Errorf("%w: register worker %q: ttl %v is not a non-negative whole number of milliseconds", ErrInvalidInput, r.Instance, r.TTL)
	}
	lanes, err := csv(r.Lanes)
	if err != nil {
		return 0, fmt.Errorf("register worker %q: lanes: %w", r.Instance, err)
	}
	caps, err := csv(r.Capabilities)
	if err != nil {
		return 0, fmt.Errorf("register worker %q: capabilities: %w", r.Instance, err)
	}
	now := s.nowMs()
	var res RegisterResult
	err = s.plainTx(ctx, func(ctx context.Context, conn *sql.Conn) error {
		var existing string
		err := conn.QueryRowContext(queryCtx(ctx), `
			SELECT worker_id FROM ff_worker_registry WHERE namespace = ? AND worker_instance_id = ?`,
			r.Namespace, r.Instance).Scan(&existing)
		switch {
		case err == nil && existing != r.WorkerID:
			return fmt.Errorf("%w: instance_id reassigned", ErrInvalidInput)
		case err == nil:
			res = Refreshed
		case errNoRows(err):
			res = Registered
		default:
			return err
		}
		if _, err := conn.ExecContext(ctx, `
			INSERT INTO ff_worker_registry (namespace, worker_instance_id, worker_id,
				lanes, capabilities_csv, last_heartbeat_ms, liveness_ttl_ms, registered_at_ms)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (namespace, worker_instance_id) DO UPDATE SET
				worker_id = excluded.worker_id,
				lanes = excluded.lanes,
				capabilities_csv = excluded.capabilities_csv,
				last_heartbeat_ms = excluded.last_heartbeat_ms,
				liveness_ttl_ms = excluded.liveness_ttl_ms`,
			r.Namespace, r.Instance, r.WorkerID, lanes, caps, now, r.TTL.Milliseconds(), now); err != nil {
			return err
		}
		return workerEvent(ctx, conn, r.Namespace, r.Instance, "registered", now, nil)
	})
	if err != nil {
		return 0, fmt.Errorf("register worker %q: %w", r.Instance, err)
	}
	return res, nil
}

// workerEvent appends to ff_worker_registry_event, ignoring a duplicate
// (same instance, kind and millisecond), as upstream's INSERT OR IGNORE.
func workerEvent(ctx context.Context, conn *sql.Conn, ns, instance, kind string, at int64, reason *string) error {
	_, err := conn.ExecContext(ctx, `
		INSERT OR IGNORE INTO ff_worker_registry_event
			(namespace, worker_instance_id, event_kind, event_at_ms, reason)
		VALUES (?, ?, ?, ?, ?)`, ns, instance, kind, at, reason)
	return err
}

// Heartbeat is [Store.HeartbeatWorker]'s answer: Refreshed with the next
// expiry, or not registered.
type Heartbeat struct {
	Refreshed    bool
	NextExpiryMs int64
}

// HeartbeatWorker refreshes a worker's liveness (W2): when its last
// heartbeat plus its TTL is still after now (strictly), last heartbeat =
// now, a "heartbeat" event is appended and the answer is Refreshed with
// next expiry now + TTL; otherwise nothing changes (an expired row is left
// for the sweep) and the answer is not registered.
func (s *Store) HeartbeatWorker(ctx context.Context, namespace, instance string) (Heartbeat, error) {
	now := s.nowMs()
	var hb Heartbeat
	err := s.plainTx(ctx, func(ctx context.Context, conn *sql.Conn) error {
		var ttl int64
		err := conn.QueryRowContext(queryCtx(ctx), `
			UPDATE ff_worker_registry SET last_heartbeat_ms = ?3
			WHERE namespace = ?1 AND worker_instance_id = ?2 AND last_heartbeat_ms + liveness_ttl_ms > ?3
			RETURNING liveness_ttl_ms`, namespace, instance, now).Scan(&ttl)
		switch {
		case errNoRows(err):
			hb = Heartbeat{}
			return nil
		case err != nil:
			return err
		}
		hb = Heartbeat{Refreshed: true, NextExpiryMs: now + ttl}
		return workerEvent(ctx, conn, namespace, instance, "heartbeat", now, nil)
	})
	if err != nil {
		return Heartbeat{}, fmt.Errorf("heartbeat worker %q: %w", instance, err)
	}
	return hb, nil
}

// MarkWorkerDead removes a worker instance (W3). A reason over 256 bytes or
// containing a control character is ErrInvalidInput, before any write. It
// reports whether there was a row to remove; when there was, a
// "marked_dead" event with the reason is appended.
func (s *Store) MarkWorkerDead(ctx context.Context, namespace, instance, reason string) (marked bool, err error) {
	if len(reason) > MaxDeadReasonBytes {
		return false, fmt.Errorf("%w: mark worker %q dead: reason exceeds %d bytes (got %d)", ErrInvalidInput, instance, MaxDeadReasonBytes, len(reason))
	}
	if strings.ContainsFunc(reason, unicode.IsControl) {
		return false, fmt.Errorf("%w: mark worker %q dead: reason must not contain control characters", ErrInvalidInput, instance)
	}
	now := s.nowMs()
	err = s.plainTx(ctx, func(ctx context.Context, conn *sql.Conn) error {
		var one int
		err := conn.QueryRowContext(queryCtx(ctx), `
			DELETE FROM ff_worker_registry WHERE namespace = ? AND worker_instance_id = ?
			RETURNING 1`, namespace, instance).Scan(&one)
		switch {
		case errNoRows(err):
			marked = false
			return nil
		case err != nil:
			return err
		}
		marked = true
		return workerEvent(ctx, conn, namespace, instance, "marked_dead", now, &reason)
	})
	if err != nil {
		return false, fmt.Errorf("mark worker %q dead: %w", instance, err)
	}
	return marked, nil
}

// ListWorkers returns the namespace's rows, ordered by instance (W5). Rows
// whose TTL ran out are listed until the sweep deletes them, as upstream.
func (s *Store) ListWorkers(ctx context.Context, namespace string) ([]Worker, error) {
	return s.workers(ctx, `WHERE namespace = ? ORDER BY worker_instance_id`, namespace)
}

// AllWorkers returns every namespace's rows, ordered by namespace and
// instance, for comparing end states.
func (s *Store) AllWorkers(ctx context.Context) ([]Worker, error) {
	return s.workers(ctx, `ORDER BY namespace, worker_instance_id`)
}

func (s *Store) workers(ctx context.Context, where string, args ...any) ([]Worker, error) {
	var out []Worker
	err := s.query(ctx, func(rows *sql.Rows) error {
		var w Worker
		var lanes, caps string
		if err := rows.Scan(&w.Namespace, &w.Instance, &w.WorkerID, &lanes, &caps, &w.LastHeartbeatMs, &w.TTLMs, &w.RegisteredAtMs); err != nil {
			return err
		}
		w.Lanes, w.Capabilities = splitCSV(lanes), splitCSV(caps)
		out = append(out, w)
		return nil
	}, `SELECT namespace, worker_instance_id, worker_id, lanes, capabilities_csv,
			last_heartbeat_ms, liveness_ttl_ms, registered_at_ms
		FROM ff_worker_registry `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("list workers: %w", err)
	}
	return out, nil
}

// TTLSweepTick is one worker_registry_ttl_sweep tick at now (W4); the
// supervisor registers it as the reconciler's tick body. One transaction
// deletes every row whose last heartbeat plus TTL is before now
// (strictly: at exactly now a worker is neither refreshable nor swept) and
// appends a "ttl_swept" event for each. The report's Processed is the
// number of rows swept; Errors is always 0. Upstream reads the system
// clock here; the port takes the tick's time from the injected clock.
// Hooks.InsideSweep runs before the commit.
func (s *Store) TTLSweepTick(ctx context.Context, now time.Time) (Report, error) {
	nowMs := now.UnixMilli()
	var swept int
	err := s.plainTx(ctx, func(ctx context.Context, conn *sql.Conn) error {
		type key struct{ ns, instance string }
		var keys []key
		rows, err := conn.QueryContext(queryCtx(ctx), `
			DELETE FROM ff_worker_registry WHERE last_heartbeat_ms + liveness_ttl_ms < ?
			RETURNING namespace, worker_instance_id`, nowMs)
		if err != nil {
			return err
		}
		for rows.Next() {
			var k key
			if err := rows.Scan(&k.ns, &k.instance); err != nil {
				rows.Close()
				return err
			}
			keys = append(keys, k)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		for _, k := range keys {
			if err := workerEvent(ctx, conn, k.ns, k.instance, "ttl_swept", nowMs, nil); err != nil {
				return err
			}
		}
		swept = len(keys)
		if h := s.o.hooks.InsideSweep; h != nil {
			return h(ctx)
		}
		return nil
	})
	if err != nil {
		return Report{}, fmt.Errorf("worker_registry_ttl_sweep: %w", err)
	}
	return Report{Processed: swept}, nil
}
