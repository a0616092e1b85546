package harness

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// FuzzLoadBytes checks the loader never panics and every error it returns
// is an *Error or Errors with a position and an excerpt.
func FuzzLoadBytes(f *testing.F) {
	for _, pattern := range []string{"testdata/ok/*.yaml", "testdata/bad/*.yaml"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	for _, s := range []string{"", "name: x\nsteps: []\n", "- a", "a: &x 1\nb: *x\n", "steps: [{concurrently: [{concurrently: []}]}]"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := LoadBytes("f.yaml", data)
		if err == nil {
			if sc == nil || sc.Name == "" || sc.Steps == nil {
				t.Fatalf("no error and an incomplete scenario: %+v", sc)
			}
			return
		}
		if sc != nil {
			t.Fatalf("a scenario and an error")
		}
		var es []*Error
		switch e := err.(type) {
		case *Error:
			es = []*Error{e}
		case Errors:
			if len(e) < 2 {
				t.Fatalf("Errors with %d errors", len(e))
			}
			es = e
		default:
			t.Fatalf("error %T: %v", err, err)
		}
		for _, e := range es {
			if e.File != "f.yaml" || e.Line < 1 || e.Col < 1 || e.Msg == "" || e.Source == "" {
				t.Fatalf("bad error %#v", e)
			}
			prefix := "f.yaml:" + strconv.Itoa(e.Line) + ":" + strconv.Itoa(e.Col) + ": "
			if !strings.HasPrefix(e.Error(), prefix) {
				t.Fatalf("error %q does not start with %q", e.Error(), prefix)
			}
		}
	})
}
