package harness

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ffsim/ffsim/scenario"

	"github.com/ffsim/ffsim/sim"
)

const committedSchema = "../docs/scenario.schema.json"

// TestCommittedSchemaIsCurrent: the schema editors load is the one Schema()
// generates today.
func TestCommittedSchemaIsCurrent(t *testing.T) {
	want, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, '\n')
	got, err := os.ReadFile(committedSchema)
	if err != nil {
		t.Fatalf("%v; run `go generate ./harness`", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is stale; run `go generate ./harness`", committedSchema)
	}
}

// TestLibrarySchemaComment: every library scenario's first line points the
// YAML language server at the committed schema, by a path that resolves
// from the scenario's own directory.
func TestLibrarySchemaComment(t *testing.T) {
	files, _ := filepath.Glob("../scenarios/*.yaml")
	if len(files) == 0 {
		t.Skip("no library scenarios yet")
	}
	const prefix = "# yaml-language-server: $schema="
	for _, file := range files {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Scan()
		first := sc.Text()
		f.Close()
		ref, ok := bytes.CutPrefix([]byte(first), []byte(prefix))
		if !ok {
			t.Errorf("%s: first line %q, want %s../docs/scenario.schema.json", file, first, prefix)
			continue
		}
		if p := filepath.Join(filepath.Dir(file), string(ref)); filepath.Clean(p) != filepath.Clean(committedSchema) {
			t.Errorf("%s: schema comment points at %s, want %s", file, p, committedSchema)
		}
	}
}

// yamlBlocks returns the ```yaml code blocks of a Markdown file, with the
// line each starts on.
func yamlBlocks(t *testing.T, path string) (blocks []string, lines []int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cur *strings.Builder
	for i, l := range strings.Split(string(data), "\n") {
		switch {
		case cur == nil && strings.TrimSpace(l) == "```yaml":
			cur = &strings.Builder{}
			lines = append(lines, i+2)
		case cur != nil && strings.TrimSpace(l) == "```":
			blocks = append(blocks, cur.String())
			cur = nil
		case cur != nil:
			cur.WriteString(l + "\n")
		}
	}
	if cur != nil {
		t.Fatalf("%s: unterminated code block", path)
	}
	return blocks, lines
}

// TestScenarioReferenceExamples: every YAML example in docs/scenarios.md
// loads and passes. A block that is a list of steps runs after the page's
// base scenario (the block named "reference base"); any other block is a
// whole scenario.
func TestScenarioReferenceExamples(t *testing.T) {
	const doc = "../docs/scenarios.md"
	blocks, lines := yamlBlocks(t, doc)
	base := ""
	for _, b := range blocks {
		if strings.Contains(b, "\nname: reference base\n") || strings.HasPrefix(b, "name: reference base\n") {
			base = b
		}
	}
	if base == "" || !strings.HasSuffix(base, "steps: []\n") {
		t.Fatalf("%s has no base scenario block ending in steps: []", doc)
	}
	snippets := 0
	for i, b := range blocks {
		name := fmt.Sprintf("%s:%d", filepath.Base(doc), lines[i])
		t.Run(name, func(t *testing.T) {
			src := b
			if strings.HasPrefix(b, "- ") {
				snippets++
				src = strings.TrimSuffix(base, "[]\n") + "\n" + indent(b, "  ")
			}
			sc, err := LoadBytes(name, []byte(src))
			if err != nil {
				t.Fatalf("%v\n%s", err, src)
			}
			if res := sim.Native().Run(context.Background(), sc, sim.Options{}); res.Status != sim.Pass {
				var w strings.Builder
				WriteFailure(&w, res, 20)
				t.Fatalf("example fails:\n%s\n%s", src, w.String())
			}
		})
	}
	if want := len(scenario.Kinds()); snippets < want {
		t.Errorf("only %d step examples, want at least one per step (%d)", snippets, want)
	}
	// Every step has a section.
	data, _ := os.ReadFile(doc)
	for _, k := range scenario.Names() {
		if !strings.Contains(string(data), "#### `"+k+"`") && !strings.Contains(string(data), "### `"+k+"`") {
			t.Errorf("%s has no section for step %s", doc, k)
		}
	}
}

func indent(s, prefix string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		if l != "" {
			b.WriteString(prefix + l)
		}
	}
	return b.String()
}
