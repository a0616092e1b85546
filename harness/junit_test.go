package harness_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"strings"
	"testing"

	"github.com/ffsim/ffsim/scenario"

	"github.com/ffsim/ffsim/harness"
	"github.com/ffsim/ffsim/sim"
)

// junitDoc is the JUnit XML as a CI server reads it.
type junitDoc struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Suites   []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Cases    []struct {
			Classname string `xml:"classname,attr"`
			Name      string `xml:"name,attr"`
			Time      string `xml:"time,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			SystemOut string `xml:"system-out"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func junitOf(t *testing.T, results []*sim.Result) junitDoc {
	t.Helper()
	var b bytes.Buffer
	if err := harness.WriteJUnit(&b, results); err != nil {
		t.Fatal(err)
	}
	var doc junitDoc
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("JUnit output does not parse: %v\n%s", err, b.String())
	}
	return doc
}

// TestJUnitOneCasePerScenario: the library plus one failing scenario give
// one testcase each; the failing one carries the failure report (file:line,
// expected vs actual, replay command) and the others pass.
func TestJUnitOneCasePerScenario(t *testing.T) {
	scs, err := harness.LoadPaths([]string{library})
	if err != nil {
		t.Fatal(err)
	}
	bad, err := harness.LoadBytes("neg.yaml", []byte(base+"  - expect_budget: {b1: {usage: {tokens: 50}}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	scs = append(scs, bad)
	var results []*sim.Result
	for _, sc := range scs {
		results = append(results, sim.Native().Run(context.Background(), sc, sim.Options{}))
	}
	doc := junitOf(t, results)
	if doc.Tests != len(scs) || doc.Failures != 1 || len(doc.Suites) != 1 {
		t.Fatalf("tests=%d failures=%d suites=%d, want %d, 1, 1", doc.Tests, doc.Failures, len(doc.Suites), len(scs))
	}
	s := doc.Suites[0]
	if s.Name != "ffsim.native" || len(s.Cases) != len(scs) || s.Tests != len(scs) || s.Failures != 1 {
		t.Fatalf("suite %s: %d cases, tests=%d failures=%d; want ffsim.native, %d, %d, 1", s.Name, len(s.Cases), s.Tests, s.Failures, len(scs), len(scs))
	}
	names := map[string]bool{}
	for i, c := range s.Cases {
		if c.Classname != scs[i].File || c.Name != scs[i].Name {
			t.Errorf("case %d is %s/%s, want %s/%s", i, c.Classname, c.Name, scs[i].File, scs[i].Name)
		}
		if names[c.Classname+"/"+c.Name] {
			t.Errorf("duplicate case %s/%s", c.Classname, c.Name)
		}
		names[c.Classname+"/"+c.Name] = true
		if c.Classname == "neg.yaml" {
			continue
		}
		if c.Failure != nil {
			t.Errorf("library case %s failed: %s", c.Name, c.Failure.Text)
		}
		if !strings.HasPrefix(c.SystemOut, "digest ") {
			t.Errorf("passing case %s: system-out %q, want its digest", c.Name, c.SystemOut)
		}
	}
	f := s.Cases[len(s.Cases)-1].Failure
	if f == nil {
		t.Fatal("the failing scenario's testcase has no failure")
	}
	if !strings.HasPrefix(f.Message, "neg.yaml:15: ") {
		t.Errorf("failure message %q, want it to start with neg.yaml:15", f.Message)
	}
	for _, want := range []string{
		"neg.yaml:15",
		"expected: b1: {usage: {tokens: 50}}",
		"actual:   b1: {usage: {tokens: 0}}",
		"ffsim replay neg.yaml --seed native:0",
		"last ", // the trace tail
	} {
		if !strings.Contains(f.Text, want) {
			t.Errorf("failure text lacks %q:\n%s", want, f.Text)
		}
	}
}

// TestJUnitOneCasePerSeed: when a scenario runs under several seeds (as
// explore does), each seed is its own testcase, named by its seed.
func TestJUnitOneCasePerSeed(t *testing.T) {
	sc, err := harness.LoadBytes("s.yaml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	var results []*sim.Result
	for seed := uint64(1); seed <= 3; seed++ {
		results = append(results, sim.Native().Run(context.Background(), sc, sim.Options{Seed: &seed}))
	}
	doc := junitOf(t, results)
	if doc.Tests != 3 || doc.Failures != 0 {
		t.Fatalf("tests=%d failures=%d, want 3, 0", doc.Tests, doc.Failures)
	}
	for i, c := range doc.Suites[0].Cases {
		if want := fmt.Sprintf("%s [seed %d]", sc.Name, i+1); c.Name != want {
			t.Errorf("case %d named %q, want %q", i, c.Name, want)
		}
	}
}

// TestJUnitOddText: a failure text with characters XML cannot hold, or a
// CDATA terminator, still gives a parseable file that keeps the rest.
func TestJUnitOddText(t *testing.T) {
	res := &sim.Result{Name: "odd \x01 name", File: "odd.yaml", Host: sim.HostNative, Status: sim.Fail,
		Failure: &sim.Failure{Pos: scenario.Pos{File: "odd.yaml", Line: 3}, Message: "bad ]]> and \x00 and <tag>", Expected: "a & b", Actual: "\"c\""}}
	doc := junitOf(t, []*sim.Result{res})
	f := doc.Suites[0].Cases[0].Failure
	if f == nil || !strings.Contains(f.Text, "bad ]]> and \uFFFD and <tag>") || !strings.Contains(f.Text, "expected: a & b") {
		t.Fatalf("failure %+v", f)
	}
}
