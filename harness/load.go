package harness

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"reflect"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/ffsim/ffsim/scenario"
)

// Load reads and validates one scenario file. The error, if any, is an
// [*Error] or, when the file has several problems, [Errors].
func Load(path string) (*scenario.Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fileError(path, err)
	}
	return LoadBytes(path, data)
}

// LoadBytes parses and validates a scenario held in memory; file names it
// in positions and errors. The error, if any, is an [*Error] or [Errors].
func LoadBytes(file string, data []byte) (*scenario.Scenario, error) {
	sc, _, errs := load(file, data)
	if len(errs) > 0 {
		return nil, errorOf(errs)
	}
	return sc, nil
}

// LoadPaths loads scenarios from files and directories, in the order
// given. A directory contributes its *.yaml and *.yml files (not its
// subdirectories), sorted by name; scenario names must be unique within a
// directory. Every file is checked; the error, if any, is an [*Error] or
// [Errors] covering all of them, and then no scenario is returned.
func LoadPaths(paths []string) ([]*scenario.Scenario, error) {
	var out []*scenario.Scenario
	var errs []*Error
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			errs = append(errs, fileError(p, err))
			continue
		}
		if !info.IsDir() {
			data, err := os.ReadFile(p)
			if err != nil {
				errs = append(errs, fileError(p, err))
				continue
			}
			sc, _, es := load(p, data)
			errs = append(errs, es...)
			if sc != nil {
				out = append(out, sc)
			}
			continue
		}
		scs, es := loadDir(os.DirFS(p), ".", func(name string) string { return filepath.Join(p, name) })
		out = append(out, scs...)
		errs = append(errs, es...)
	}
	if len(errs) > 0 {
		return nil, errorOf(errs)
	}
	return out, nil
}

// LoadFS loads the *.yaml and *.yml files of directory dir in fsys (not
// its subdirectories), sorted by name, for example from an embed.FS.
// Scenario names must be unique within the directory. Positions name files
// as dir/name. The error, if any, is an [*Error] or [Errors].
func LoadFS(fsys fs.FS, dir string) ([]*scenario.Scenario, error) {
	scs, errs := loadDir(fsys, dir, func(name string) string { return path.Join(dir, name) })
	if len(errs) > 0 {
		return nil, errorOf(errs)
	}
	return scs, nil
}

// loadDir loads a directory's scenario files; display maps a file name to
// the name used in positions.
func loadDir(fsys fs.FS, dir string, display func(string) string) ([]*scenario.Scenario, []*Error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, []*Error{fileError(display("."), err)}
	}
	var out []*scenario.Scenario
	var errs []*Error
	names := map[string]scenario.Pos{}
	for _, e := range entries {
		ext := path.Ext(e.Name())
		if e.IsDir() || (ext != ".yaml" && ext != ".yml") {
			continue
		}
		file := display(e.Name())
		data, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			errs = append(errs, fileError(file, err))
			continue
		}
		sc, namePos, es := load(file, data)
		errs = append(errs, es...)
		if sc == nil {
			continue
		}
		if first, dup := names[sc.Name]; dup {
			d := newDecoder(file, data)
			d.errorAt(namePos.Line, namePos.Col, "duplicate scenario name %q (also in %s:%d)", sc.Name, first.File, first.Line)
			errs = append(errs, d.errs...)
			continue
		}
		names[sc.Name] = namePos
		out = append(out, sc)
	}
	return out, errs
}

func fileError(file string, err error) *Error {
	msg := err.Error()
	var pe *fs.PathError
	if errors.As(err, &pe) {
		msg = pe.Err.Error()
	}
	return &Error{File: file, Msg: msg, Err: err}
}

// load parses and validates one file. It returns the scenario (nil if
// there are errors), the position of its name, and the errors, sorted.
func load(file string, data []byte) (sc *scenario.Scenario, namePos scenario.Pos, errs []*Error) {
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
// errors and returns nil.
func parse(d *decoder, data []byte) (body ast.Node) {
	defer func() {
		if r := recover(); r != nil {
			d.errs = nil
			d.errorAt(1, 1, "YAML parser failed: %v", r)
			body = nil
		}
	}()
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		line, col := 1, 1
		msg := err.Error()
		var ye yaml.Error
		if errors.As(err, &ye) {
			msg = ye.GetMessage()
			if tk := ye.GetToken(); tk != nil && tk.Position != nil {
				line, col = tk.Position.Line, tk.Position.Column
			}
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
