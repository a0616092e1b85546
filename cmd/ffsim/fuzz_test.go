package main

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFuzzClean: a short fuzz run on this tree finds nothing and says so.
func TestFuzzClean(t *testing.T) {
	dir := t.TempDir()
	junit := filepath.Join(dir, "fuzz.xml")
	code, out, errs := ffsim(t, "fuzz", "--seeds", "30", "--first-seed", "100", "--out", filepath.Join(dir, "out"), "--junit", junit)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	if !strings.Contains(out, "fuzz: 30 seeds (100…) on the native host") || !strings.HasSuffix(out, "30 passed, 0 failed\n") {
		t.Errorf("stdout:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); !os.IsNotExist(err) {
		t.Errorf("a clean run created the output directory (%v)", err)
	}
	b, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil || doc.Tests != 1 || doc.Failures != 0 {
		t.Errorf("junit: %+v %v\n%s", doc, err, b)
	}
}

// TestFuzzJSON: --json writes a summary object (and nothing else when
// nothing fails).
func TestFuzzJSON(t *testing.T) {
	code, out, errs := ffsim(t, "fuzz", "--seeds", "10", "--json", "--parallel", "1")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var s fuzzSummary
	if len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &s) != nil {
		t.Fatalf("stdout:\n%s", out)
	}
	if s.Summary.Seeds != 10 || s.Summary.Passed != 10 || s.Summary.Host != "native" || s.Summary.Generator == 0 {
		t.Errorf("summary %+v", s.Summary)
	}
}

// TestFuzzTime: --time bounds the run by wall-clock time (here long
// enough for at least one seed).
func TestFuzzTime(t *testing.T) {
	code, out, errs := ffsim(t, "fuzz", "--time", "200ms", "--parallel", "1")
	if code != 0 || !strings.Contains(out, " passed, 0 failed") {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
}

// TestFuzzUsage: bad flags are exit 2.
func TestFuzzUsage(t *testing.T) {
	for _, args := range [][]string{
		{"fuzz", "--seeds", "5", "--time", "1s"},
		{"fuzz", "--seeds", "0"},
		{"fuzz", "--time", "0s"},
		{"fuzz", "--parallel", "0"},
		{"fuzz", "--host", "elsewhere", "--seeds", "1"},
		{"fuzz", "--max-failures", "-1"},
		{"fuzz", "stray"},
	} {
		if code, _, _ := ffsim(t, args...); code != exitInvalid {
			t.Errorf("%v: exit %d, want %d", args, code, exitInvalid)
		}
	}
}
