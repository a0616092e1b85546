package harness

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/ffsim/ffsim/sim"
)

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Classname string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	SystemOut *junitText    `xml:"system-out,omitempty"`
}

// junitText is element text written as CDATA, so that a report's lines stay
// lines in the file.
type junitText struct {
	Text string `xml:",cdata"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",cdata"`
}

// WriteJUnit writes results as JUnit XML: one testsuite per host, one
// testcase per result (per scenario, or per scenario and seed when a
// scenario ran under several seeds). A failed case carries the failure
// report, with the step's file:line, expected vs actual and the replay
// command. Time is simulated seconds, which is what the scenario covered.
func WriteJUnit(w io.Writer, results []*sim.Result) error {
	seeds := map[string]map[uint64]bool{}
	for _, r := range results {
		if seeds[r.File] == nil {
			seeds[r.File] = map[uint64]bool{}
		}
		seeds[r.File][r.Seed] = true
	}
	doc := junitSuites{}
	byHost := map[string]int{}
	for _, r := range results {
		i, ok := byHost[r.Host]
		if !ok {
			i = len(doc.Suites)
			byHost[r.Host] = i
			doc.Suites = append(doc.Suites, junitSuite{Name: "ffsim." + r.Host})
		}
		s := &doc.Suites[i]
		c := junitCase{Classname: r.File, Name: r.Name, Time: fmt.Sprintf("%.3f", r.SimDuration.Seconds())}
		if len(seeds[r.File]) > 1 {
			c.Name = fmt.Sprintf("%s [seed %d]", r.Name, r.Seed)
		}
		if r.Status != sim.Pass {
			var b strings.Builder
			WriteFailure(&b, r, 12)
			msg := r.Name
			if r.Failure != nil {
				msg = fmt.Sprintf("%s: %s", r.Failure.Pos, r.Failure.Message)
			}
			c.Failure = &junitFailure{Message: msg, Type: "ffsim." + string(r.Status), Text: xmlSafe(b.String())}
			s.Failures++
			doc.Failures++
		} else {
			c.SystemOut = &junitText{"digest " + r.Digest}
		}
		s.Cases = append(s.Cases, c)
		s.Tests++
		doc.Tests++
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// xmlSafe replaces the characters XML cannot hold, even in CDATA, with
// U+FFFD. (Attributes are escaped by encoding/xml; CDATA is not.)
func xmlSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r',
			r >= 0x20 && r <= 0xD7FF,
			r >= 0xE000 && r <= 0xFFFD,
			r >= 0x10000 && r <= 0x10FFFF:
			return r
		}
		return '\uFFFD'
	}, s)
}
