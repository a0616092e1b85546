package harness

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"

	"github.com/ffsim/ffsim/internal/suggest"
	"github.com/ffsim/ffsim/scenario"
)

// DefaultMaxFileSize is the largest scenario file the loaders read, unless
// [WithMaxFileSize] says otherwise: generous for a hand-written scenario (the
// library's largest is a few kilobytes), small enough that parsing it stays
// within seconds and a few hundred megabytes.
const DefaultMaxFileSize = 4 << 20

// LoadOption tunes [Load], [LoadBytes], [LoadPaths] and [LoadFS].
type LoadOption func(*loadConfig)

type loadConfig struct {
	maxFileSize int64
}

// WithMaxFileSize sets the largest scenario file loaded, in bytes; a larger
// file is refused before it is read (or, for [LoadBytes], parsed). n <= 0
// means [DefaultMaxFileSize].
func WithMaxFileSize(n int64) LoadOption {
	return func(c *loadConfig) {
		if n > 0 {
			c.maxFileSize = n
		}
	}
}

func newLoadConfig(opts []LoadOption) loadConfig {
	c := loadConfig{maxFileSize: DefaultMaxFileSize}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return c
}

// Load reads and validates one scenario file, which must be a regular file
// (after resolving symbolic links) no larger than the size limit. The
// error, if any, is an [*Error] or, when the file has several problems,
// [Errors].
func Load(path string, opts ...LoadOption) (*scenario.Scenario, error) {
	c := newLoadConfig(opts)
	data, ferr := readRegular(path, c.maxFileSize)
	if ferr != nil {
		return nil, ferr
	}
	sc, _, errs := load(path, data)
	if len(errs) > 0 {
		return nil, errorOf(errs)
	}
	return sc, nil
}

// LoadBytes parses and validates a scenario held in memory; file names it
// in positions and errors. Data over the size limit is refused unparsed.
// The error, if any, is an [*Error] or [Errors].
func LoadBytes(file string, data []byte, opts ...LoadOption) (*scenario.Scenario, error) {
	c := newLoadConfig(opts)
	if int64(len(data)) > c.maxFileSize {
		return nil, tooLarge(file, int64(len(data)), c.maxFileSize)
	}
	sc, _, errs := load(file, data)
	if len(errs) > 0 {
		return nil, errorOf(errs)
	}
	return sc, nil
}

// LoadPaths loads scenarios from files and directories, in the order
// given.
//
//   - A file is loaded whatever its name; it must be a regular file (after
//     resolving symbolic links) within the size limit.
//   - A directory contributes its own *.yaml and *.yml files, sorted by
//     name; its subdirectories are not searched.
//   - dir/... (as in Go's package patterns; "..." alone is the current
//     directory) contributes the *.yaml and *.yml files of dir and of every
//     directory below it, in lexical order, skipping directories whose name
//     starts with "." and not following symbolic links to directories.
//
// A directory argument that contributes no scenario file is an error, as is
// an entry named *.yaml or *.yml that is not a regular file (a FIFO, a
// device, a link to one): such a file is never opened. Scenario names must
// be unique within a directory. Every file is checked; the error, if any,
// is an [*Error] or [Errors] covering all of them, and then no scenario is
// returned.
func LoadPaths(paths []string, opts ...LoadOption) ([]*scenario.Scenario, error) {
	c := newLoadConfig(opts)
	var out []*scenario.Scenario
	var errs []*Error
	for _, p := range paths {
		if root, ok := recursivePattern(p); ok {
			scs, es := loadTree(root, p, c)
			out = append(out, scs...)
			errs = append(errs, es...)
			continue
		}
		info, err := os.Stat(p)
		if err != nil {
			errs = append(errs, fileError(p, err))
			continue
		}
		if info.IsDir() {
			scs, es := loadOSDir(p, c)
			out = append(out, scs...)
			errs = append(errs, es...)
			continue
		}
		data, ferr := readRegular(p, c.maxFileSize)
		if ferr != nil {
			errs = append(errs, ferr)
			continue
		}
		sc, _, es := load(p, data)
		errs = append(errs, es...)
		if sc != nil {
			out = append(out, sc)
		}
	}
	if len(errs) > 0 {
		return nil, errorOf(errs)
	}
	return out, nil
}

// LoadFS loads the *.yaml and *.yml files of directory dir in fsys (not
// its subdirectories), sorted by name, for example from an embed.FS. Each
// must be a regular file within the size limit. Scenario names must be
// unique within the directory, and a directory without scenario files is
// an error. Positions name files as dir/name. The error, if any, is an
// [*Error] or [Errors].
func LoadFS(fsys fs.FS, dir string, opts ...LoadOption) ([]*scenario.Scenario, error) {
	c := newLoadConfig(opts)
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fileError(dir, err)
	}
	var files []string
	for _, e := range entries {
		if isScenarioName(e.Name()) && !e.IsDir() {
			files = append(files, e.Name())
		}
	}
	if len(files) == 0 {
		return nil, noScenarios(dir, hasSubdirs(entries), "")
	}
	var ld dirLoader
	for _, name := range files {
		file := path.Join(dir, name)
		data, ferr := readFSRegular(fsys, file, c.maxFileSize)
		if ferr != nil {
			ld.errs = append(ld.errs, ferr)
			continue
		}
		ld.add(file, data)
	}
	if len(ld.errs) > 0 {
		return nil, errorOf(ld.errs)
	}
	return ld.out, nil
}

// isScenarioName reports whether a directory entry is taken for a scenario.
func isScenarioName(name string) bool {
	ext := path.Ext(name)
	return ext == ".yaml" || ext == ".yml"
}

func hasSubdirs(entries []fs.DirEntry) bool {
	for _, e := range entries {
		if e.IsDir() {
			return true
		}
	}
	return false
}

// recursivePattern reports whether p is "dir/..." (or "..."), and returns
// dir.
func recursivePattern(p string) (string, bool) {
	if p == "..." {
		return ".", true
	}
	for _, sep := range []string{"/", string(filepath.Separator)} {
		if root, ok := strings.CutSuffix(p, sep+"..."); ok {
			if root == "" {
				root = sep
			}
			return root, true
		}
	}
	return "", false
}

// noScenarios is the error for a directory argument with no scenario files.
func noScenarios(dir string, subdirs bool, pattern string) *Error {
	msg := "no scenario files (*.yaml or *.yml) in this directory"
	switch {
	case pattern != "":
		msg = "no scenario files (*.yaml or *.yml) in this directory or below it"
	case subdirs:
		msg += " (its subdirectories are not searched: write " + filepath.Join(dir, "...") + " to include them)"
	}
	name := dir
	if pattern != "" {
		name = pattern
	}
	return &Error{File: name, Msg: msg}
}

// dirLoader loads the scenario files of one directory, keeping names
// unique within it.
type dirLoader struct {
	out   []*scenario.Scenario
	errs  []*Error
	names map[string]scenario.Pos
}

// add loads one file's data.
func (ld *dirLoader) add(file string, data []byte) {
	if sc := ld.load(file, data); sc != nil {
		ld.out = append(ld.out, sc)
	}
}

// load loads one file's data and returns the scenario, or nil after
// recording its errors.
func (ld *dirLoader) load(file string, data []byte) *scenario.Scenario {
	sc, namePos, es := load(file, data)
	ld.errs = append(ld.errs, es...)
	if sc == nil {
		return nil
	}
	if ld.names == nil {
		ld.names = map[string]scenario.Pos{}
	}
	if first, dup := ld.names[sc.Name]; dup {
		d := newDecoder(file, data)
		d.errorAt(namePos.Line, namePos.Col, "duplicate scenario name %s (also in %s:%d)", suggest.Quote(sc.Name), first.File, first.Line)
		ld.errs = append(ld.errs, d.errs...)
		return nil
	}
	ld.names[sc.Name] = namePos
	return sc
}

// loadOSDir loads a directory's own scenario files.
func loadOSDir(dir string, c loadConfig) ([]*scenario.Scenario, []*Error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, []*Error{fileError(dir, err)}
	}
	var ld dirLoader
	n := 0
	for _, e := range entries {
		if e.IsDir() || !isScenarioName(e.Name()) {
			continue
		}
		n++
		file := filepath.Join(dir, e.Name())
		data, ferr := readRegular(file, c.maxFileSize)
		if ferr != nil {
			ld.errs = append(ld.errs, ferr)
			continue
		}
		ld.add(file, data)
	}
	if n == 0 {
		return nil, []*Error{noScenarios(dir, hasSubdirs(entries), "")}
	}
	return ld.out, ld.errs
}

// loadTree loads the scenario files of root and every directory below it,
// in the order filepath.WalkDir visits them (pattern is the argument as
// given, for messages).
func loadTree(root, pattern string, c loadConfig) ([]*scenario.Scenario, []*Error) {
	var out []*scenario.Scenario
	var errs []*Error
	dirs := map[string]*dirLoader{}
	n := 0
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			errs = append(errs, fileError(p, err))
			if e != nil && e.IsDir() && p != root {
				return fs.SkipDir
			}
			return nil
		}
		if e.IsDir() {
			if p != root && strings.HasPrefix(e.Name(), ".") {
				return fs.SkipDir
			}
			return nil
		}
		if !isScenarioName(e.Name()) {
			return nil
		}
		n++
		data, ferr := readRegular(p, c.maxFileSize)
		if ferr != nil {
			errs = append(errs, ferr)
			return nil
		}
		dir := filepath.Dir(p)
		ld := dirs[dir]
		if ld == nil {
			ld = &dirLoader{}
			dirs[dir] = ld
		}
		if sc := ld.load(p, data); sc != nil {
			out = append(out, sc)
		}
		errs = append(errs, ld.errs...)
		ld.errs = nil
		return nil
	})
	if err != nil {
		errs = append(errs, fileError(root, err))
	}
	if n == 0 && len(errs) == 0 {
		errs = append(errs, noScenarios(root, false, pattern))
	}
	sortErrors(errs)
	return out, errs
}

// load parses and validates one file. It returns the scenario (nil if
// there are errors), the position of its name, and the errors, sorted.
func load(file string, data []byte) (sc *scenario.Scenario, namePos scenario.Pos, errs []*Error) {
	data = bytes.TrimPrefix(data, bom)
	d := newDecoder(file, data)
	body := parse(d, data)
	if body == nil {
		return nil, scenario.Pos{}, d.errs
	}
	sc = &scenario.Scenario{}
	d.decode(body, reflect.ValueOf(sc).Elem())
	sc.File = file
	namePos = sc.NamePos
	// The rules that need no YAML are the scenario package's. A step the
	// decoder refused was left out, and a line the decoder already found
	// wrong is not reported again: its own error is the precise one.
	seen := map[int]bool{}
	for _, e := range d.errs {
		seen[e.Line] = true
	}
	for _, e := range sc.Check() {
		// A value without a position was never decoded: the decoder has
		// said why (a missing required key).
		if e.Pos.IsZero() && len(d.errs) > 0 {
			continue
		}
		if line := max(e.Pos.Line, 1); !seen[line] {
			d.errorAt(e.Pos.Line, e.Pos.Col, "%s", e.Msg)
		}
	}
	sortErrors(d.errs)
	if len(d.errs) > 0 {
		return nil, namePos, d.errs
	}
	return sc, namePos, nil
}

// parse parses data into the body of its single YAML document, or records
// errors and returns nil. The tokens are checked for depth and collection
// sizes (prescan) before the parser builds anything from them.
func parse(d *decoder, data []byte) (body ast.Node) {
	defer func() {
		if r := recover(); r != nil {
			d.errs = nil
			d.errorAt(1, 1, "YAML parser failed: %v", r)
			body = nil
		}
	}()
	tokens := lexer.Tokenize(string(data))
	if !prescan(d, tokens) {
		return nil
	}
	f, err := parser.Parse(tokens, 0)
	if err != nil {
		line, col := 1, 1
		var ye yaml.Error
		var msg string
		if errors.As(err, &ye) {
			// Not err.Error(): the parser's own rendering prints the
			// tokens around the error and costs the square of their
			// number (a line of 40,000 anchors took 4 s).
			msg = ye.GetMessage()
			if tk := ye.GetToken(); tk != nil && tk.Position != nil {
				line, col = tk.Position.Line, tk.Position.Column
			}
		} else {
			msg = err.Error()
		}
		// The parser may quote the rest of the line, however long.
		if r := []rune(msg); len(r) > excerptWidth {
			msg = string(r[:excerptWidth]) + "…"
		}
		d.errorAt(line, col, "%s", msg)
		return nil
	}
	var docs []ast.Node
	for _, doc := range f.Docs {
		if doc != nil && !isNil(doc.Body) {
			docs = append(docs, doc.Body)
		}
	}
	if len(docs) == 0 {
		d.errorAt(1, 1, "empty scenario: want a mapping with at least name and steps")
		return nil
	}
	if len(docs) > 1 {
		d.errorf(docs[1], "a scenario file holds one YAML document; found %d", len(docs))
		return nil
	}
	return docs[0]
}
