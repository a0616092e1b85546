// Package sqlbridge carries SQL between the wasm guest and its host: the
// guest's store runs on a database/sql driver (driver_wasip1.go) whose
// connections forward every call to host functions, and the host
// (package sim/wasmhost) answers them with go-sqlite3 connections it owns,
// one in-memory database per guest instance. Host calls are synchronous, so
// virtual time does not move during SQL, exactly as when SQLite runs inside
// the guest.
//
// This file is the wire format both sides share: a call's arguments and a
// reply, encoded compactly (no JSON: a tag byte and a fixed-width or
// length-prefixed payload per value).
package sqlbridge

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// The host module and its functions, as the guest imports them.
const (
	Module = "ffsim_sql"

	// FnOpen opens a connection: () -> handle (>0), or an error reply's
	// length negated.
	FnOpen = "open"
	// FnClose closes a connection: (conn) -> 0.
	FnClose = "close"
	// FnPrepare prepares a statement: (conn, sql, len) -> handle (>0), or
	// an error reply's length negated.
	FnPrepare = "prepare"
	// FnFinalize finalizes a statement: (stmt) -> 0.
	FnFinalize = "finalize"
	// FnRun runs a statement with arguments and reads every row: (stmt,
	// args, len) -> the reply's length.
	FnRun = "run"
	// FnReply copies the pending reply into the guest: (buf) -> 0.
	FnReply = "reply"
)

// Value tags.
const (
	tagNull byte = iota
	tagInt
	tagFloat
	tagText
	tagBlob
)

// Reply status.
const (
	statusOK byte = iota
	statusErr
)

// Reply flags: what the store needs to know of the connection after a
// call.
const (
	// FlagBusy: SQLite called the busy handler (asked to wait for a lock)
	// during the call.
	FlagBusy byte = 1 << iota
	// FlagInTx: the connection has a transaction open after the call.
	FlagInTx
)

// AppendValue appends one value: nil, int64, float64, string, []byte or
// bool (as an integer, as SQLite stores it).
func AppendValue(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, tagNull), nil
	case int64:
		return binary.LittleEndian.AppendUint64(append(b, tagInt), uint64(x)), nil
	case bool:
		n := int64(0)
		if x {
			n = 1
		}
		return binary.LittleEndian.AppendUint64(append(b, tagInt), uint64(n)), nil
	case float64:
		return binary.LittleEndian.AppendUint64(append(b, tagFloat), math.Float64bits(x)), nil
	case string:
		b = binary.AppendUvarint(append(b, tagText), uint64(len(x)))
		return append(b, x...), nil
	case []byte:
		b = binary.AppendUvarint(append(b, tagBlob), uint64(len(x)))
		return append(b, x...), nil
	}
	return b, fmt.Errorf("sqlbridge: cannot pass a %T", v)
}

// Decoder reads values and fields from an encoded buffer.
type Decoder struct {
	b   []byte
	err error
}

// NewDecoder reads b.
func NewDecoder(b []byte) *Decoder { return &Decoder{b: b} }

// Err is the first decoding error.
func (d *Decoder) Err() error { return d.err }

// Done reports whether everything was read.
func (d *Decoder) Done() bool { return len(d.b) == 0 }

var errShort = errors.New("sqlbridge: message cut short")

func (d *Decoder) take(n int) []byte {
	if d.err != nil || n < 0 || len(d.b) < n {
		d.err = errShort
		return nil
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}

// Byte reads one byte.
func (d *Decoder) Byte() byte {
	if p := d.take(1); p != nil {
		return p[0]
	}
	return 0
}

// Uint64 reads a fixed 8-byte integer.
func (d *Decoder) Uint64() uint64 {
	if p := d.take(8); p != nil {
		return binary.LittleEndian.Uint64(p)
	}
	return 0
}

// Uvarint reads a varint.
func (d *Decoder) Uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errShort
		return 0
	}
	d.b = d.b[n:]
	return v
}

// Bytes reads a length-prefixed byte string.
func (d *Decoder) Bytes() []byte { return d.take(int(d.Uvarint())) }

// Value reads one value: nil, int64, float64, string or []byte.
func (d *Decoder) Value() any {
	switch tag := d.Byte(); tag {
	case tagNull:
		return nil
	case tagInt:
		return int64(d.Uint64())
	case tagFloat:
		return math.Float64frombits(d.Uint64())
	case tagText:
		return string(d.Bytes())
	case tagBlob:
		p := d.Bytes()
		return append([]byte(nil), p...)
	default:
		if d.err == nil {
			d.err = fmt.Errorf("sqlbridge: unknown value tag %d", tag)
		}
		return nil
	}
}

// Reply is the decoded answer to a call.
type Reply struct {
	Flags byte
	// Err is the call's error: its extended code and SQLite's text.
	Err *Error
	// Changes is the rows a statement changed (run).
	Changes int64
	// Columns and Rows are a query's result (run).
	Columns []string
	Rows    [][]any
}

// Error is a SQLite error as the host's go-sqlite3 reported it.
type Error struct {
	Code int
	Text string
}

// AppendError encodes an error reply.
func AppendError(b []byte, flags byte, code int, text string) []byte {
	b = append(b, statusErr, flags)
	b = binary.LittleEndian.AppendUint64(b, uint64(int64(code)))
	b = binary.AppendUvarint(b, uint64(len(text)))
	return append(b, text...)
}

// AppendOK encodes the head of a successful reply: the flags, the changes
// and the column names. The rows follow, each its values in column order
// (AppendValue), up to the end of the reply.
func AppendOK(b []byte, flags byte, changes int64, columns []string) []byte {
	b = append(b, statusOK, flags)
	b = binary.LittleEndian.AppendUint64(b, uint64(changes))
	b = binary.AppendUvarint(b, uint64(len(columns)))
	for _, c := range columns {
		b = binary.AppendUvarint(b, uint64(len(c)))
		b = append(b, c...)
	}
	return b
}

// DecodeReply reads a reply.
func DecodeReply(b []byte) (Reply, error) {
	d := NewDecoder(b)
	var r Reply
	status := d.Byte()
	r.Flags = d.Byte()
	if status == statusErr {
		code := int64(d.Uint64())
		r.Err = &Error{Code: int(code), Text: string(d.Bytes())}
		return r, d.Err()
	}
	r.Changes = int64(d.Uint64())
	r.Columns = make([]string, d.Uvarint())
	for i := range r.Columns {
		r.Columns[i] = string(d.Bytes())
	}
	for !d.Done() && d.Err() == nil {
		row := make([]any, len(r.Columns))
		for i := range row {
			row[i] = d.Value()
		}
		r.Rows = append(r.Rows, row)
	}
	return r, d.Err()
}
