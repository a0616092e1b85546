//go:build !wasip1 || ffsim_guestsqlite

package reconcilers

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"

	"github.com/ncruces/go-sqlite3"
	sqlitedriver "github.com/ncruces/go-sqlite3/driver"
	"github.com/ncruces/go-sqlite3/ext/serdes"
	"github.com/ncruces/go-sqlite3/vfs/memdb"
)

// This file adapts github.com/ncruces/go-sqlite3 (SQLite built to
// WebAssembly and translated to Go, no cgo) to the store. The wasm guest
// leaves it out unless built with the ffsim_guestsqlite tag: by default its
// SQL runs in the host, through a driver of its own (see Open).

// ncrucesConn adapts a go-sqlite3 driver connection to SQLiteConn.
type ncrucesConn struct {
	driver.Conn
	prep driver.ConnPrepareContext
	raw  *sqlite3.Conn
	busy lockedFlag
}

func (n *ncrucesConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return n.prep.PrepareContext(ctx, query)
}

func (n *ncrucesConn) BusyRequested() bool { return n.busy.take() }
func (n *ncrucesConn) InTransaction() bool { return !n.raw.GetAutocommit() }

// adaptNcruces installs a busy handler that records SQLite's request to
// wait and declines it: the store waits itself, on its clock (R3b). It
// replaces the real-time busy timeout go-sqlite3 sets by default.
func adaptNcruces(dc driver.Conn) (SQLiteConn, error) {
	rc, ok := dc.(interface{ Raw() *sqlite3.Conn })
	prep, pok := dc.(driver.ConnPrepareContext)
	if !ok || !pok {
		return nil, fmt.Errorf("reconcilers: driver connection %T is not from github.com/ncruces/go-sqlite3", dc)
	}
	n := &ncrucesConn{Conn: dc, prep: prep, raw: rc.Raw()}
	err := n.raw.BusyHandler(func(context.Context, int) bool {
		n.busy.mark()
		return false
	})
	if err != nil {
		return nil, err
	}
	return n, nil
}

// nativeCode is the extended result code of a go-sqlite3 error, which is
// an *sqlite3.Error, or a bare ExtendedErrorCode or ErrorCode when SQLite
// gave no message.
func nativeCode(err error) (int, bool) {
	var x sqlite3.ExtendedErrorCode
	if errors.As(err, &x) {
		return int(x), true
	}
	var c sqlite3.ErrorCode
	if errors.As(err, &c) {
		return int(c), true
	}
	return 0, false
}

// memNames guards against two live stores sharing one memdb name:
// memdb.Create would silently swap the database under the first store's
// future connections.
var (
	memNamesMu sync.Mutex
	memNames   = map[string]bool{}
)

// OpenMemory opens a store on a shared in-memory database (the memdb VFS),
// creates the schema and returns it. Every connection of the store's pool
// opens the same database, so a reader is never blocked by another
// connection's open write transaction, and a second connection (e.g.
// [Store.DB]().Conn) can contend for the write lock as another process
// would.
//
// name identifies the database and must not be in use by another open
// store; a leading "/" is optional. An empty name picks a random one. The
// database lives until [Store.Close].
func OpenMemory(name string, opts ...Option) (*Store, error) {
	name = strings.TrimPrefix(name, "/")
	if name == "" {
		name = "ffsim-" + rand.Text()
	}
	if strings.ContainsAny(name, "/?#") {
		return nil, fmt.Errorf("%w: memdb name %q contains '/', '?' or '#'", ErrInvalidInput, name)
	}
	memNamesMu.Lock()
	if memNames[name] {
		memNamesMu.Unlock()
		return nil, fmt.Errorf("%w: memdb name %q is already open", ErrInvalidInput, name)
	}
	memNames[name] = true
	memNamesMu.Unlock()

	// Create holds a reference of its own, so the database survives the pool
	// closing every connection (e.g. after discarding a broken one). The
	// database starts as a copy of an empty, migrated one: migrating took
	// 2.7 ms, most of a short simulation run.
	image, err := SchemaImage()
	if err != nil {
		releaseMemName(name)
		return nil, err
	}
	memdb.Create(name, image)
	dsn := (&url.URL{Scheme: "file", OmitHost: true, Path: "/" + name, RawQuery: "vfs=memdb"}).String()
	s, err := openNcruces(dsn, opts)
	if err != nil {
		releaseMemName(name)
		return nil, err
	}
	s.memName = name
	return s, nil
}

// SchemaImage returns the bytes of an empty database with the current
// schema, a fresh copy on each call, for memdb.Create (OpenMemory starts
// every store from it, and a host serving SQL to a wasm guest can too).
func SchemaImage() ([]byte, error) {
	image, err := schemaImage()
	return bytes.Clone(image), err
}

// schemaImage migrates one empty database, once per process, and keeps
// its bytes.
var schemaImage = sync.OnceValues(func() ([]byte, error) {
	name := "ffsim-schema-" + rand.Text()
	memdb.Create(name, nil)
	defer memdb.Delete(name)
	dsn := (&url.URL{Scheme: "file", OmitHost: true, Path: "/" + name, RawQuery: "vfs=memdb"}).String()
	s, err := openNcruces(dsn, nil)
	if err != nil {
		return nil, fmt.Errorf("building the schema image: %w", err)
	}
	defer s.Close()
	c, err := s.db.Conn(context.Background())
	if err != nil {
		return nil, err
	}
	defer c.Close()
	var image []byte
	err = c.Raw(func(dc any) error {
		n, ok := dc.(*conn).base.(*ncrucesConn)
		if !ok {
			return fmt.Errorf("reconcilers: schema image: unexpected connection %T", dc)
		}
		var err error
		image, err = serdes.Serialize(n.raw, "main")
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("building the schema image: %w", err)
	}
	return image, nil
})

func releaseMemName(name string) {
	memdb.Delete(name)
	memNamesMu.Lock()
	delete(memNames, name)
	memNamesMu.Unlock()
}

// OpenFile opens (creating if needed) a store on the database file at path
// in WAL mode, so readers never wait for the writer, and brings its schema
// up to date.
func OpenFile(path string, opts ...Option) (*Store, error) {
	if path == "" {
		return nil, fmt.Errorf("%w: empty database path", ErrInvalidInput)
	}
	dsn := (&url.URL{Scheme: "file", OmitHost: true, Path: path, RawQuery: "_pragma=journal_mode(wal)"}).String()
	return openNcruces(dsn, opts)
}

func openNcruces(dsn string, opts []Option) (*Store, error) {
	base, err := (&sqlitedriver.SQLite{}).OpenConnector(dsn)
	if err != nil {
		return nil, err
	}
	return open(base, adaptNcruces, opts)
}
