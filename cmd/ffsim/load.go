package main

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/ffsim/ffsim/harness"
	"github.com/ffsim/ffsim/scenario"
	"github.com/ffsim/ffsim/scenarios"
)

// loadScenarios loads the given paths, or the embedded library when there
// are none. Any invalid file is an exit-2 error and nothing runs.
func loadScenarios(paths []string) ([]*scenario.Scenario, error) {
	var scs []*scenario.Scenario
	var err error
	if maxFileSize <= 0 {
		return nil, invalid("--max-file-size must be positive")
	}
	opt := harness.WithMaxFileSize(maxFileSize)
	if len(paths) == 0 {
		scs, err = harness.LoadFS(prefixFS{scenarios.FS, scenarios.Dir}, scenarios.Dir, opt)
	} else {
		scs, err = harness.LoadPaths(paths, opt)
	}
	if err != nil {
		return nil, invalidErr(withErrorSummary(err))
	}
	if len(scs) == 0 {
		return nil, invalid("no scenario files found in %s", strings.Join(paths, ", "))
	}
	return scs, nil
}

// maxFileSize is --max-file-size, a flag of every command.
var maxFileSize int64

// withErrorSummary ends a load error with how many errors there were, in
// how many files, and that nothing ran.
func withErrorSummary(err error) error {
	var es harness.Errors
	var e *harness.Error
	switch {
	case errors.As(err, &es):
	case errors.As(err, &e):
		es = harness.Errors{e}
	default:
		return err
	}
	files := map[string]bool{}
	for _, e := range es {
		files[e.File] = true
	}
	return fmt.Errorf("%w\n%d error(s) in %d file(s); nothing was run", err, len(es), len(files))
}

// prefixFS shows an FS as if it were the directory prefix of a larger one,
// so the embedded library's files are named scenarios/NAME.yaml in reports
// and replay commands work from a checkout.
type prefixFS struct {
	fsys   fs.FS
	prefix string
}

func (p prefixFS) Open(name string) (fs.File, error) {
	switch {
	case name == p.prefix:
		return p.fsys.Open(".")
	case strings.HasPrefix(name, p.prefix+"/"):
		return p.fsys.Open(name[len(p.prefix)+1:])
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}
