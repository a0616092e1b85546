package harness

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// kindOf names a file mode that is not a regular file.
func kindOf(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "not a regular file"
}

func notRegular(file string, m fs.FileMode) *Error {
	return &Error{File: file, Msg: fmt.Sprintf("%s, not a regular file: only regular files are loaded as scenarios", kindOf(m))}
}

func tooLarge(file string, size, limit int64) *Error {
	return &Error{File: file, Msg: fmt.Sprintf("the file is %d bytes, over the %s limit for a scenario file (raise it with --max-file-size, or harness.WithMaxFileSize)", size, sizeString(limit))}
}

// sizeString renders a byte count as "4 MiB" when it is a whole number of
// MiB or KiB, else in bytes.
func sizeString(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d-byte", n)
}

// readRegular reads a regular file of at most limit bytes. Anything else
// (a FIFO, a device, a directory, a link to one) is refused before it is
// opened, so that reading can neither block nor run forever; the file is
// then opened without blocking and checked again, in case it was swapped.
func readRegular(file string, limit int64) ([]byte, *Error) {
	info, err := os.Stat(file)
	if err != nil {
		return nil, fileError(file, err)
	}
	if !info.Mode().IsRegular() {
		return nil, notRegular(file, info.Mode())
	}
	if info.Size() > limit {
		return nil, tooLarge(file, info.Size(), limit)
	}
	f, err := os.OpenFile(file, openFlags, 0)
	if err != nil {
		return nil, fileError(file, err)
	}
	defer f.Close()
	if info2, err := f.Stat(); err != nil {
		return nil, fileError(file, err)
	} else if !info2.Mode().IsRegular() {
		return nil, notRegular(file, info2.Mode())
	}
	return readLimited(file, f, limit)
}

// readFSRegular is readRegular on an fs.FS.
func readFSRegular(fsys fs.FS, file string, limit int64) ([]byte, *Error) {
	info, err := fs.Stat(fsys, file)
	if err != nil {
		return nil, fileError(file, err)
	}
	if !info.Mode().IsRegular() {
		return nil, notRegular(file, info.Mode())
	}
	if info.Size() > limit {
		return nil, tooLarge(file, info.Size(), limit)
	}
	f, err := fsys.Open(file)
	if err != nil {
		return nil, fileError(file, err)
	}
	defer f.Close()
	return readLimited(file, f, limit)
}

// readLimited reads r, refusing more than limit bytes (a file that grew
// since it was measured).
func readLimited(file string, r io.Reader, limit int64) ([]byte, *Error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fileError(file, err)
	}
	if int64(len(data)) > limit {
		return nil, tooLarge(file, int64(len(data)), limit)
	}
	return data, nil
}

func fileError(file string, err error) *Error {
	msg := err.Error()
	var pe *fs.PathError
	if errors.As(err, &pe) {
		msg = pe.Err.Error()
	}
	return &Error{File: file, Msg: msg, Err: err}
}

// bom is the UTF-8 byte order mark some editors write at the start of a
// file; it is not part of the scenario.
var bom = []byte("\xef\xbb\xbf")
