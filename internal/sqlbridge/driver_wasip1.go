//go:build wasip1

package sqlbridge

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"unsafe"

	"github.com/ffsim/ffsim/reconcilers"
)

// The host's functions (see the constants in codec.go).
//
//go:wasmimport ffsim_sql open
func hostOpen(buf unsafe.Pointer, capacity int32) int32

//go:wasmimport ffsim_sql close
func hostClose(conn int32) int32

//go:wasmimport ffsim_sql prepare
func hostPrepare(conn int32, sql unsafe.Pointer, n int32, buf unsafe.Pointer, capacity int32) int32

//go:wasmimport ffsim_sql finalize
func hostFinalize(stmt int32) int32

//go:wasmimport ffsim_sql run
func hostRun(stmt int32, args unsafe.Pointer, n int32, buf unsafe.Pointer, capacity int32) int32

//go:wasmimport ffsim_sql reply
func hostReply(buf unsafe.Pointer) int32

// replyBuf is where replies land; the guest is single-threaded and a host
// call is synchronous, so one buffer serves every call.
var replyBuf = make([]byte, 64<<10)

// call makes a host call that writes a reply of the returned length (when
// positive) into replyBuf, or into a bigger buffer fetched with reply.
func reply(n int32) (Reply, error) {
	if n <= 0 {
		return Reply{}, errors.New("sqlbridge: empty reply from the host")
	}
	if int(n) > len(replyBuf) {
		replyBuf = make([]byte, n)
		hostReply(unsafe.Pointer(&replyBuf[0]))
	}
	return DecodeReply(replyBuf[:n])
}

// handle reads the answer of open and prepare: a handle, or an error reply
// whose length is returned negated.
func handle(h int32) (int32, *Reply, error) {
	if h > 0 {
		return h, nil, nil
	}
	r, err := reply(-h)
	if err != nil {
		return 0, nil, err
	}
	return 0, &r, nil
}

// sqliteError is the store's view of a host error: the same extended code
// and text as go-sqlite3 gives in process.
func sqliteError(e *Error) error { return &reconcilers.SQLiteError{Code: e.Code, Text: e.Text} }

// Connector returns a database/sql connector whose connections are
// connections to the host's database for this guest instance.
func Connector() driver.Connector { return connector{} }

type connector struct{}

func (connector) Driver() driver.Driver { return drv{} }

func (connector) Connect(context.Context) (driver.Conn, error) {
	h, r, err := handle(hostOpen(unsafe.Pointer(&replyBuf[0]), int32(len(replyBuf))))
	if err != nil {
		return nil, err
	}
	if r != nil {
		return nil, sqliteError(r.Err)
	}
	return &conn{h: h}, nil
}

type drv struct{}

func (drv) Open(string) (driver.Conn, error) { return connector{}.Connect(context.Background()) }

// conn is a connection to the host's database. It implements
// reconcilers.SQLiteConn from the flags each reply carries.
type conn struct {
	h     int32
	flags byte
	busy  bool
}

var _ reconcilers.SQLiteConn = (*conn)(nil)

func (c *conn) note(r *Reply) {
	c.flags = r.Flags
	if r.Flags&FlagBusy != 0 {
		c.busy = true
	}
}

func (c *conn) BusyRequested() bool {
	b := c.busy
	c.busy = false
	return b
}

func (c *conn) InTransaction() bool { return c.flags&FlagInTx != 0 }

func (c *conn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *conn) PrepareContext(_ context.Context, query string) (driver.Stmt, error) {
	h, r, err := handle(hostPrepare(c.h, unsafe.Pointer(unsafe.StringData(query)), int32(len(query)),
		unsafe.Pointer(&replyBuf[0]), int32(len(replyBuf))))
	if err != nil {
		return nil, err
	}
	if r != nil {
		c.note(r)
		return nil, sqliteError(r.Err)
	}
	return &stmt{c: c, h: h}, nil
}

func (c *conn) Close() error {
	hostClose(c.h)
	return nil
}

func (c *conn) Begin() (driver.Tx, error) {
	return nil, errors.New("sqlbridge: transactions are BEGIN statements")
}

type stmt struct {
	c    *conn
	h    int32
	args []byte
}

func (s *stmt) Close() error {
	hostFinalize(s.h)
	return nil
}

// NumInput is -1: database/sql leaves the count to SQLite, as go-sqlite3's
// driver does for named parameters.
func (s *stmt) NumInput() int { return -1 }

func (s *stmt) run(args []driver.NamedValue) (Reply, error) {
	b := s.args[:0]
	for _, a := range args {
		var err error
		if b, err = AppendValue(b, a.Value); err != nil {
			return Reply{}, err
		}
	}
	s.args = b
	r, err := reply(hostRun(s.h, unsafe.Pointer(unsafe.SliceData(b)), int32(len(b)),
		unsafe.Pointer(&replyBuf[0]), int32(len(replyBuf))))
	if err != nil {
		return Reply{}, err
	}
	s.c.note(&r)
	if r.Err != nil {
		return r, sqliteError(r.Err)
	}
	return r, nil
}

func (s *stmt) Exec(args []driver.Value) (driver.Result, error) {
	return s.ExecContext(context.Background(), named(args))
}

func (s *stmt) Query(args []driver.Value) (driver.Rows, error) {
	return s.QueryContext(context.Background(), named(args))
}

func named(args []driver.Value) []driver.NamedValue {
	out := make([]driver.NamedValue, len(args))
	for i, a := range args {
		out[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	return out
}

func (s *stmt) ExecContext(_ context.Context, args []driver.NamedValue) (driver.Result, error) {
	r, err := s.run(args)
	if err != nil {
		return nil, err
	}
	return result(r.Changes), nil
}

func (s *stmt) QueryContext(_ context.Context, args []driver.NamedValue) (driver.Rows, error) {
	r, err := s.run(args)
	if err != nil {
		return nil, err
	}
	return &rows{cols: r.Columns, rows: r.Rows}, nil
}

type result int64

func (r result) LastInsertId() (int64, error) { return 0, errors.New("sqlbridge: no LastInsertId") }
func (r result) RowsAffected() (int64, error) { return int64(r), nil }

// rows hands out a query's rows, all read by the host in one call.
type rows struct {
	cols []string
	rows [][]any
}

func (r *rows) Columns() []string { return r.cols }
func (r *rows) Close() error      { return nil }

func (r *rows) Next(dest []driver.Value) error {
	if len(r.rows) == 0 {
		return io.EOF
	}
	for i, v := range r.rows[0] {
		dest[i] = v
	}
	r.rows = r.rows[1:]
	return nil
}
