package main

import (
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
	if len(paths) == 0 {
		scs, err = harness.LoadFS(prefixFS{scenarios.FS, scenarios.Dir}, scenarios.Dir)
	} else {
		scs, err = harness.LoadPaths(paths)
	}
	if err != nil {
		return nil, invalidErr(err)
	}
	if len(scs) == 0 {
		return nil, invalid("no scenario files found in %s", strings.Join(paths, ", "))
	}
	return scs, nil
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
