package harness

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/ffsim/ffsim/sim"
)

// Load reads and validates one scenario file. The error, if any, is an
// [*Error] or, when the file has several problems, [Errors].
func Load(path string) (*sim.Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fileError(path, err)
	}
	return LoadBytes(path, data)
}

// LoadBytes parses and validates a scenario held in memory; file names it
// in positions and errors. The error, if any, is an [*Error] or [Errors].
func LoadBytes(file string, data []byte) (*sim.Scenario, error) {
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
func LoadPaths(paths []string) ([]*sim.Scenario, error) {
	var out []*sim.Scenario
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
func LoadFS(fsys fs.FS, dir string) ([]*sim.Scenario, error) {
	scs, errs := loadDir(fsys, dir, func(name string) string { return path.Join(dir, name) })
	if len(errs) > 0 {
		return nil, errorOf(errs)
	}
	return scs, nil
}

// loadDir loads a directory's scenario files; display maps a file name to
// the name used in positions.
func loadDir(fsys fs.FS, dir string, display func(string) string) ([]*sim.Scenario, []*Error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, []*Error{fileError(display("."), err)}
	}
	var out []*sim.Scenario
	var errs []*Error
	names := map[string]sim.Pos{}
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
func load(file string, data []byte) (sc *sim.Scenario, namePos sim.Pos, errs []*Error) {
	d := newDecoder(file, data)
	body := parse(d, data)
	if body == nil {
		return nil, sim.Pos{}, d.errs
	}
	if m, ok := body.(*ast.MappingNode); ok {
		for _, kv := range m.Values {
			if k, _ := keyText(kv.Key); k == "name" {
				namePos = d.posOf(kv.Value)
			}
		}
	}
	var f scenarioFile
	d.decode(body, reflectValue(&f))
	sc = d.scenario(&f)
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

// scenario converts the decoded file and runs the checks that need all of
// it: duplicate budget ids and budget references.
func (d *decoder) scenario(f *scenarioFile) *sim.Scenario {
	sc := &sim.Scenario{
		Name:        string(f.Name),
		Description: f.Description,
		File:        d.file,
		Start:       sim.DefaultStart,
		Seed:        f.Seed,
		Steps:       f.Steps.sim(),
	}
	if f.Start != nil {
		sc.Start = time.Time(*f.Start)
	}
	if f.Supervisor != nil && f.Supervisor.BudgetResetInterval != nil {
		sc.Supervisor.BudgetResetInterval = f.Supervisor.BudgetResetInterval.d()
	}
	declared := map[string]sim.Pos{}
	for i := range f.Budgets {
		b := d.budget(&f.Budgets[i])
		if first, dup := declared[b.ID]; dup {
			p := f.Budgets[i].ID.Pos
			d.errorAt(p.Line, p.Col, "duplicate budget id %q (first declared at line %d)", b.ID, first.Line)
			continue
		}
		declared[b.ID] = f.Budgets[i].ID.Pos
		sc.Budgets = append(sc.Budgets, b)
	}
	for _, r := range d.refs {
		if _, ok := declared[r.id.ID]; ok {
			continue
		}
		if seq, ok := d.created[r.id.ID]; ok && seq < r.seq {
			continue
		}
		known := make([]string, 0, len(declared)+len(d.created))
		for id := range declared {
			known = append(known, id)
		}
		for id, seq := range d.created {
			if seq < r.seq {
				known = append(known, id)
			}
		}
		slices.Sort(known)
		why := "declare it under budgets: or create it in an earlier create_budget step"
		sugg := suggestion(r.id.ID, known)
		if seq, ok := d.created[r.id.ID]; ok {
			sugg = ""
			if seq == r.seq {
				why = "it is created in the same concurrently step, in an order the seed decides"
			} else {
				why = "it is created only by a later create_budget step"
			}
		}
		d.errorAt(r.id.Pos.Line, r.id.Pos.Col, "unknown budget %q%s; %s", r.id.ID, sugg, why)
	}
	return sc
}
