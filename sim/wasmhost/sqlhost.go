package wasmhost

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/vfs/memdb"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/ffsim/ffsim/internal/sqlbridge"
	"github.com/ffsim/ffsim/reconcilers"
)

// The host half of internal/sqlbridge: the guest's store runs its SQL here,
// on go-sqlite3 connections to one in-memory database per guest instance.
// A host call runs a statement to its end, synchronously, so the guest's
// virtual time does not move during it, exactly as when SQLite runs inside
// the guest. The connections have no busy timeout: their busy handler
// records that SQLite asked to wait, declines, and the reply says so; the
// guest's store then waits on its own virtual clock (R3b) and asks again.

// sqlRun is one guest instance's database and the handles the guest holds.
type sqlRun struct {
	name  string
	conns map[int32]*hostConn
	stmts map[int32]*hostStmt
	next  int32
	// pending is a reply too big for the guest's buffer, fetched by reply.
	pending []byte
	out     []byte
}

type hostConn struct {
	c    *sqlite3.Conn
	busy bool
}

type hostStmt struct {
	conn *hostConn
	s    *sqlite3.Stmt
}

type sqlRunKey struct{}

// newSQLRun creates an instance's database, already at the current schema
// (the guest's store then finds nothing to migrate: migrating costs a few
// milliseconds of guest time per run).
func newSQLRun() (*sqlRun, error) {
	image, err := reconcilers.SchemaImage()
	if err != nil {
		return nil, err
	}
	r := &sqlRun{name: "ffsim-guest-" + rand.Text(), conns: map[int32]*hostConn{}, stmts: map[int32]*hostStmt{}}
	memdb.Create(r.name, image)
	return r, nil
}

// close finalizes what the guest left open and deletes the database.
func (r *sqlRun) close() {
	for _, st := range r.stmts {
		_ = st.s.Close()
	}
	for _, c := range r.conns {
		_ = c.c.Close()
	}
	memdb.Delete(r.name)
}

func runOf(ctx context.Context) *sqlRun {
	r, _ := ctx.Value(sqlRunKey{}).(*sqlRun)
	return r
}

// instantiateSQLHost adds the host functions to rt. The two called per
// statement (prepare, run) are stack-based: wazero's reflective calling of
// a plain Go function was a tenth of a soak's time.
func instantiateSQLHost(ctx context.Context, rt wazero.Runtime) error {
	i32 := api.ValueTypeI32
	_, err := rt.NewHostModuleBuilder(sqlbridge.Module).
		NewFunctionBuilder().WithFunc(hostOpen).Export(sqlbridge.FnOpen).
		NewFunctionBuilder().WithFunc(hostClose).Export(sqlbridge.FnClose).
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, m api.Module, s []uint64) {
		s[0] = api.EncodeI32(hostPrepare(ctx, m, api.DecodeU32(s[0]), api.DecodeU32(s[1]), api.DecodeU32(s[2]), api.DecodeU32(s[3]), api.DecodeU32(s[4])))
	}), []api.ValueType{i32, i32, i32, i32, i32}, []api.ValueType{i32}).Export(sqlbridge.FnPrepare).
		NewFunctionBuilder().WithFunc(hostFinalize).Export(sqlbridge.FnFinalize).
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, m api.Module, s []uint64) {
		s[0] = api.EncodeI32(hostRun(ctx, m, api.DecodeU32(s[0]), api.DecodeU32(s[1]), api.DecodeU32(s[2]), api.DecodeU32(s[3]), api.DecodeU32(s[4])))
	}), []api.ValueType{i32, i32, i32, i32, i32}, []api.ValueType{i32}).Export(sqlbridge.FnRun).
		NewFunctionBuilder().WithFunc(hostReply).Export(sqlbridge.FnReply).
		Instantiate(ctx)
	return err
}

// send writes a reply into the guest's buffer when it fits, keeping it for
// hostReply otherwise, and returns its length.
func (r *sqlRun) send(m api.Module, reply []byte, buf, capacity uint32) int32 {
	if len(reply) <= int(capacity) {
		m.Memory().Write(buf, reply)
	} else {
		r.pending = append(r.pending[:0], reply...)
	}
	return int32(len(reply))
}

// errReply is the reply to a failed call: SQLite's extended code and the
// text go-sqlite3 gives, so that the guest's store sees what it would see
// in process.
func errReply(b []byte, flags byte, err error) []byte {
	code := 1 // SQLITE_ERROR: not from SQLite at all
	var x sqlite3.ExtendedErrorCode
	var c sqlite3.ErrorCode
	switch {
	case errors.As(err, &x):
		code = int(x)
	case errors.As(err, &c):
		code = int(c)
	}
	return sqlbridge.AppendError(b, flags, code, err.Error())
}

func (c *hostConn) flags() byte {
	var f byte
	if c.busy {
		f |= sqlbridge.FlagBusy
		c.busy = false
	}
	if !c.c.GetAutocommit() {
		f |= sqlbridge.FlagInTx
	}
	return f
}

func hostOpen(ctx context.Context, m api.Module, buf, capacity uint32) int32 {
	checkStop(ctx)
	r := runOf(ctx)
	dsn := (&url.URL{Scheme: "file", OmitHost: true, Path: "/" + r.name, RawQuery: "vfs=memdb"}).String()
	c, err := sqlite3.Open(dsn)
	if err == nil {
		hc := &hostConn{c: c}
		err = c.BusyHandler(func(context.Context, int) bool {
			hc.busy = true
			return false
		})
		if err == nil {
			r.next++
			r.conns[r.next] = hc
			return r.next
		}
		_ = c.Close()
	}
	return -r.send(m, errReply(r.out[:0], 0, err), buf, capacity)
}

func hostClose(ctx context.Context, conn uint32) int32 {
	r := runOf(ctx)
	if c, ok := r.conns[int32(conn)]; ok {
		for h, st := range r.stmts {
			if st.conn == c {
				_ = st.s.Close()
				delete(r.stmts, h)
			}
		}
		_ = c.c.Close()
		delete(r.conns, int32(conn))
	}
	return 0
}

func hostPrepare(ctx context.Context, m api.Module, conn, sqlPtr, sqlLen, buf, capacity uint32) int32 {
	checkStop(ctx)
	r := runOf(ctx)
	c, ok := r.conns[int32(conn)]
	if !ok {
		return -r.send(m, errReply(r.out[:0], 0, fmt.Errorf("sqlbridge: no connection %d", conn)), buf, capacity)
	}
	q, _ := m.Memory().Read(sqlPtr, sqlLen)
	s, tail, err := c.c.Prepare(string(q))
	if err == nil && tail != "" {
		_ = s.Close()
		err = errors.New("sqlite3: multiple statements")
	}
	if err != nil {
		return -r.send(m, errReply(r.out[:0], c.flags(), err), buf, capacity)
	}
	r.next++
	r.stmts[r.next] = &hostStmt{conn: c, s: s}
	return r.next
}

func hostFinalize(ctx context.Context, stmt uint32) int32 {
	r := runOf(ctx)
	if st, ok := r.stmts[int32(stmt)]; ok {
		_ = st.s.Close()
		delete(r.stmts, int32(stmt))
	}
	return 0
}

func hostReply(ctx context.Context, m api.Module, buf uint32) int32 {
	r := runOf(ctx)
	m.Memory().Write(buf, r.pending)
	r.pending = r.pending[:0]
	return 0
}

// hostRun binds the arguments, steps the statement to its end collecting
// its rows, and resets it: the reply carries the changes and the rows, or
// the error, and the connection's flags.
func hostRun(ctx context.Context, m api.Module, stmt, argsPtr, argsLen, buf, capacity uint32) int32 {
	checkStop(ctx)
	r := runOf(ctx)
	st, ok := r.stmts[int32(stmt)]
	if !ok {
		return r.send(m, errReply(r.out[:0], 0, fmt.Errorf("sqlbridge: no statement %d", stmt)), buf, capacity)
	}
	args, _ := m.Memory().Read(argsPtr, argsLen)
	if err := bind(st.s, args); err != nil {
		_ = st.s.ClearBindings()
		return r.send(m, errReply(r.out[:0], st.conn.flags(), err), buf, capacity)
	}
	s := st.s
	n := s.ColumnCount()
	cols := make([]string, n)
	for i := range cols {
		cols[i] = s.ColumnName(i)
	}
	var rows []byte
	for s.Step() {
		for i := range n {
			rows = appendColumn(rows, s, i)
		}
	}
	err := s.Err()
	_ = s.Reset()
	_ = s.ClearBindings()
	flags := st.conn.flags()
	if err != nil {
		return r.send(m, errReply(r.out[:0], flags, err), buf, capacity)
	}
	r.out = append(sqlbridge.AppendOK(r.out[:0], flags, st.conn.c.Changes(), cols), rows...)
	return r.send(m, r.out, buf, capacity)
}

// bind binds encoded arguments to their positions.
func bind(s *sqlite3.Stmt, args []byte) error {
	d := sqlbridge.NewDecoder(args)
	for i := 1; !d.Done(); i++ {
		var err error
		switch v := d.Value().(type) {
		case nil:
			err = s.BindNull(i)
		case int64:
			err = s.BindInt64(i, v)
		case float64:
			err = s.BindFloat(i, v)
		case string:
			err = s.BindText(i, v)
		case []byte:
			err = s.BindBlob(i, v)
		}
		if err != nil {
			return err
		}
		if d.Err() != nil {
			return d.Err()
		}
	}
	return d.Err()
}

func appendColumn(b []byte, s *sqlite3.Stmt, i int) []byte {
	var v any
	switch s.ColumnType(i) {
	case sqlite3.INTEGER:
		v = s.ColumnInt64(i)
	case sqlite3.FLOAT:
		v = s.ColumnFloat(i)
	case sqlite3.TEXT:
		v = s.ColumnText(i)
	case sqlite3.BLOB:
		v = s.ColumnBlob(i, nil)
	}
	b, _ = sqlbridge.AppendValue(b, v) // only the types above
	return b
}
