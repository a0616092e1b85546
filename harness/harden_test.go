package harness

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/ffsim/ffsim/internal/suggest"
)

// Regression tests for issue 10: hostile or careless input is refused with
// a clear, positioned error, quickly and in bounded memory, and never
// passes silently.

// firstError loads src and returns its first error's "file:line:col: msg".
func firstError(t *testing.T, src string) (string, *Error) {
	t.Helper()
	_, err := LoadBytes("t.yaml", []byte(src))
	if err == nil {
		t.Fatalf("no error for:\n%.300s", src)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T: %v", err, err)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg), e
}

// A UTF-8 byte order mark at the start of a file is not part of the first
// key (it read as unknown key "\ufeffname").
func TestLoadAcceptsByteOrderMark(t *testing.T) {
	sc, err := LoadBytes("bom.yaml", []byte("\xef\xbb\xbfname: bom\nsteps: [{advance: 1s}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if sc.Name != "bom" || sc.NamePos.Line != 1 || sc.NamePos.Col != 7 {
		t.Errorf("name %q at %v", sc.Name, sc.NamePos)
	}
}

// Text that reports echo cannot hold a newline or other control character:
// a name with a newline printed a forged "FAIL injected" line. Each error
// points at the value; descriptions may span lines.
func TestLoadRefusesControlCharacters(t *testing.T) {
	const steps = "steps: [{advance: 1s}]\n"
	for _, tt := range []struct{ name, src, want string }{
		{"newline in name", `name: "x\nFAIL injected"` + "\n" + steps,
			"t.yaml:1:7: name contains the control character U+000A: scenario text is echoed on report lines"},
		{"escape in name", "name: \"x\\e[31m\"\n" + steps, "t.yaml:1:7: name contains the control character U+001B"},
		{"escape in description", "name: x\ndescription: |\n  fine\n  not \x1b[2J fine\n" + steps,
			"t.yaml:2:14: description contains the control character U+001B: only newlines and tabs"},
		{"newline in a budget id", "name: x\nbudgets: [{id: \"b\\n1\", scope: {type: t, id: i}}]\n" + steps,
			"t.yaml:2:16: id contains the control character U+000A"},
		{"newline in a key", "name: x\nbudgets: [{id: b, scope: {type: t, id: i}, dimensions: {\"a\\nb\": {hard: 1}}}]\n" + steps,
			`t.yaml:2:57: key "a\nb" contains the control character U+000A`},
		{"tab in a dedup key", "name: x\nbudgets: [{id: b, scope: {type: t, id: i}}]\nsteps:\n  - report_usage: {budget: b, usage: {t: 1}, dedup_key: \"a\\tb\"}\n",
			"t.yaml:4:57: dedup_key contains the control character U+0009"},
		{"line separator in an instance", "name: x\nsteps:\n  - heartbeat_worker: {instance: \"a\u2028b\"}\n",
			"t.yaml:3:34: instance contains the control character U+2028"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, e := firstError(t, tt.src)
			if !strings.HasPrefix(got, tt.want) {
				t.Errorf("got  %s\nwant %s…", got, tt.want)
			}
			checkExcerpt(t, e, "")
		})
	}
	ok := "name: x\ndescription: |\n  line one\n\tline two with a tab\n" +
		"steps:\n  - mark_worker_dead: {instance: i, reason: \"bad\\x00reason\"}\n    expect: invalid\n"
	ok = strings.Replace(ok, "\tline two", "  line two\t", 1)
	if _, err := LoadBytes("t.yaml", []byte(ok)); err != nil {
		t.Errorf("a multi-line description and a reason with control characters: %v", err)
	}
}

// An integer beyond 64 bits reads "out of range", not "expected an
// integer, got string"; in a string field it is an integer to quote.
func TestLoadIntegerOutOfRange(t *testing.T) {
	for _, tt := range []struct{ src, want string }{
		{"name: x\nseed: 18446744073709551616\nsteps: []\n",
			"t.yaml:2:7: integer 18446744073709551616 is out of range (seed must be at most 18446744073709551615)"},
		{"name: x\nsteps: [{busy: {attempts: 99999999999999999999}}]\n",
			"t.yaml:2:27: integer 99999999999999999999 is out of range (attempts must be at most 9223372036854775807)"},
		{"name: x\nsteps: [{busy: {attempts: 9223372036854775808}}]\n",
			"t.yaml:2:27: integer 9223372036854775808 is out of range (attempts must be at most 9223372036854775807)"},
		{"name: x\nsteps: [{busy: {attempts: -9223372036854775809}}]\n",
			"t.yaml:2:27: integer -9223372036854775809 is out of range"},
		{"name: x\nsteps: [{busy: {attempts: 0x1FFFFFFFFFFFFFFFF}}]\n",
			"t.yaml:2:27: integer 0x1FFFFFFFFFFFFFFFF is out of range"},
		{"name: x\nbudgets: [{id: b, scope: {type: t, id: i}}]\nsteps: [{report_usage: {budget: b, usage: {t: 1}, dedup_key: 99999999999999999999}}]\n",
			"t.yaml:3:62: expected a string, got integer (quote it)"},
		{"name: x\nsteps: [{advance: 99999999999999999999}]\n",
			`t.yaml:2:19: expected a duration such as "5s", got integer`},
	} {
		if got, _ := firstError(t, tt.src); !strings.HasPrefix(got, tt.want) {
			t.Errorf("got  %s\nwant %s", got, tt.want)
		}
	}
}

// 100,000 nested "[" (200 KB) made the YAML parser allocate gigabytes;
// nesting, compact or not, block or flow, is now refused at the first
// level past MaxNesting, before the parser runs.
func TestLoadRefusesDeepNesting(t *testing.T) {
	const n = 100_000
	deepBlock := func() string {
		var b strings.Builder
		b.WriteString("name: x\nsteps:\n")
		for i := range 200 {
			b.WriteString(strings.Repeat(" ", i) + "a:\n")
		}
		return b.String()
	}
	for _, tt := range []struct{ name, src, want string }{
		{"flow sequences", "name: x\nsteps: " + strings.Repeat("[", n) + strings.Repeat("]", n) + "\n",
			"t.yaml:2:71: values nest more than 64 levels deep"},
		{"unclosed flow", "name: x\nsteps: " + strings.Repeat("[", n) + "\n", "t.yaml:2:71: values nest more than 64 levels deep"},
		{"flow mappings", "name: x\nsteps: " + strings.Repeat("{a: ", n) + "\n", "t.yaml:2:260: values nest more than 64 levels deep"},
		{"compact sequences", "name: x\nsteps:\n" + strings.Repeat("- ", n) + "x\n", "t.yaml:3:127: values nest more than 64 levels deep"},
		{"block mappings", deepBlock(), "t.yaml:67:65: values nest more than 64 levels deep"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, e := firstError(t, tt.src)
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if len(e.Source) > 1000 {
				t.Errorf("excerpt of %d bytes: long lines must be cut around the column", len(e.Source))
			}
		})
	}
	// Nesting up to the limit is fine (the decoder then says what is
	// wrong with the value).
	got, _ := firstError(t, "name: x\nsteps: "+strings.Repeat("[", 63)+strings.Repeat("]", 63)+"\n")
	if strings.Contains(got, "nest") {
		t.Errorf("63 levels refused: %s", got)
	}
}

// 100,000 dimensions took 88 s to parse (block mappings cost the parser
// quadratic time); mappings and lists over their caps are refused at the
// first entry past the cap.
func TestLoadRefusesHugeCollections(t *testing.T) {
	dims := func(n int, flow bool) string {
		var b strings.Builder
		b.WriteString("name: x\nbudgets:\n  - id: b\n    scope: {type: t, id: i}\n    dimensions:")
		if flow {
			b.WriteString(" {")
			for i := range n {
				fmt.Fprintf(&b, "d%d: {hard: 1}, ", i)
			}
			b.WriteString("}\n")
		} else {
			b.WriteString("\n")
			for i := range n {
				fmt.Fprintf(&b, "      d%d: {hard: 1}\n", i)
			}
		}
		b.WriteString("steps: []\n")
		return b.String()
	}
	steps := func(n int) string {
		return "name: x\nsteps:\n" + strings.Repeat("  - advance: 1s\n", n)
	}
	for _, tt := range []struct{ name, src, want string }{
		{"100k block dimensions", dims(100_000, false), "t.yaml:1006:7: a mapping has more than 1000 keys"},
		{"100k flow dimensions", dims(100_000, true), "t.yaml:5:16906: a mapping has more than 1000 keys"},
		{"10,001 steps", steps(10_001), "t.yaml:10003:3: a list has more than 10000 items"},
		{"flow list", "name: x\nsteps: [" + strings.Repeat("{advance: 1s}, ", 10_001) + "]\n", "t.yaml:2:150007: a list has more than 10000 items"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, e := firstError(t, tt.src)
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if len(e.Source) > 1000 {
				t.Errorf("excerpt of %d bytes: long lines must be cut around the column", len(e.Source))
			}
		})
	}
	if _, err := LoadBytes("t.yaml", []byte(dims(MaxMappingKeys, false))); err != nil {
		t.Errorf("%d dimensions: %v", MaxMappingKeys, err)
	}
	if _, err := LoadBytes("t.yaml", []byte(steps(MaxListItems))); err != nil {
		t.Errorf("%d steps: %v", MaxListItems, err)
	}
}

// The prescan follows YAML's structure as the parser does: brackets in
// quoted strings, comments and block scalars are text, a list may sit at
// its key's column, and a key after it closes it.
func TestPrescanReadsStructureAsTheParserDoes(t *testing.T) {
	many := strings.Repeat("[", 200)
	src := "# " + many + "\nname: '" + many + "'\ndescription: |\n  " + many + "\n  {{{{\n" +
		"budgets:\n- id: b\n  scope: {type: \"" + many + "\", id: i}\n" +
		"steps:\n- advance: 1s # " + many + "\n- report_usage:\n    budget: b\n    usage: {t: 1}\n" +
		"  expect: ok\n"
	sc, err := LoadBytes("t.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.Steps) != 2 || sc.Budgets[0].Scope.Type != many {
		t.Errorf("loaded %+v", sc)
	}
	// 1,000 keys in each of two mappings at one column are two mappings.
	var b strings.Builder
	b.WriteString("name: x\nbudgets:\n")
	for j := range 2 {
		fmt.Fprintf(&b, "  - id: b%d\n    scope: {type: t, id: i}\n    dimensions:\n", j)
		for i := range MaxMappingKeys {
			fmt.Fprintf(&b, "      d%d: {}\n", i)
		}
	}
	b.WriteString("steps: []\n")
	if _, err := LoadBytes("t.yaml", []byte(b.String())); err != nil {
		t.Errorf("two mappings of %d keys: %v", MaxMappingKeys, err)
	}
}

// A file's errors print at most MaxErrorsShown, then how many more; the
// error still holds them all.
func TestErrorsPrintCapped(t *testing.T) {
	src := "name: x\nsteps:\n" + strings.Repeat("  - advnce: 1s\n", MaxListItems)
	_, err := LoadBytes("t.yaml", []byte(src))
	var es Errors
	if !errors.As(err, &es) || len(es) != MaxListItems {
		t.Fatalf("want %d errors, got %d", MaxListItems, len(es))
	}
	text := err.Error()
	if !strings.HasSuffix(text, fmt.Sprintf("\n… and %d more errors", MaxListItems-MaxErrorsShown)) {
		t.Errorf("error text ends %q", text[max(0, len(text)-80):])
	}
	if n := strings.Count(text, "t.yaml:"); n != MaxErrorsShown {
		t.Errorf("%d errors printed, want %d", n, MaxErrorsShown)
	}
	// "Did you mean" is bounded per file too.
	hints := 0
	for _, e := range es {
		if strings.Contains(e.Msg, "did you mean") {
			hints++
		}
	}
	if hints == 0 || hints > suggest.DefaultHints {
		t.Errorf("%d hints for %d unknown steps, want between 1 and %d", hints, len(es), suggest.DefaultHints)
	}
}

// A 100,000-character unknown name is not compared with anything, and
// messages echo only its start.
func TestHugeUnknownNameIsCheap(t *testing.T) {
	huge := strings.Repeat("y", 100_000)
	var b strings.Builder
	b.WriteString("name: x\nbudgets:\n")
	for i := range 20 {
		fmt.Fprintf(&b, "  - {id: %s%d, scope: {type: t, id: i}}\n", huge[:99_990], i)
	}
	b.WriteString("steps:\n  - reset_budget: {budget: " + huge + "}\n  - " + huge + ": {}\n")
	before := suggest.Cells()
	_, err := LoadBytes("t.yaml", []byte(b.String()))
	var es Errors
	if !errors.As(err, &es) || len(es) != 2 || !strings.Contains(es[0].Msg, "unknown budget") || !strings.Contains(es[1].Msg, "unknown step") {
		t.Fatalf("want an unknown budget and an unknown step, got %v", err)
	}
	if n := suggest.Cells() - before; n != 0 {
		t.Errorf("%d edit-distance cells computed for names over %d characters", n, suggest.MaxLen)
	}
	if len(err.Error()) > 4000 {
		t.Errorf("the error is %d bytes long: messages and excerpts must not echo a huge name whole", len(err.Error()))
	}
}

// Files over the size limit are refused before they are parsed (LoadBytes)
// or read (Load); the limit can be raised.
func TestLoadSizeLimit(t *testing.T) {
	src := "name: x\nsteps: []\n" + strings.Repeat("#", DefaultMaxFileSize)
	_, err := LoadBytes("big.yaml", []byte(src))
	want := fmt.Sprintf("big.yaml: the file is %d bytes, over the 4 MiB limit for a scenario file (raise it with --max-file-size, or harness.WithMaxFileSize)", len(src))
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
	if _, err := LoadBytes("big.yaml", []byte(src), WithMaxFileSize(8<<20)); err != nil {
		t.Errorf("with a raised limit: %v", err)
	}
	p := filepath.Join(t.TempDir(), "big.yaml")
	writeFile(t, p, src)
	if _, err := Load(p, WithMaxFileSize(1024)); err == nil || !strings.Contains(err.Error(), "over the 1 KiB limit") {
		t.Errorf("Load with a 1 KiB limit: %v", err)
	}
	if _, err := LoadPaths([]string{p}); err == nil || !strings.Contains(err.Error(), "over the 4 MiB limit") {
		t.Errorf("LoadPaths: %v", err)
	}
}

// A directory argument without scenario files is an error, not silence;
// one whose files are all in subdirectories says how to include them.
func TestLoadPathsEmptyDirectory(t *testing.T) {
	empty := t.TempDir()
	_, err := LoadPaths([]string{empty})
	if err == nil || err.Error() != empty+": no scenario files (*.yaml or *.yml) in this directory" {
		t.Errorf("empty directory: %v", err)
	}
	nested := t.TempDir()
	writeFile(t, filepath.Join(nested, "sub", "a.yaml"), strings.Replace(okScenario, "%s", "a", 1))
	writeFile(t, filepath.Join(nested, "README.md"), "docs")
	_, err = LoadPaths([]string{nested})
	if err == nil || !strings.Contains(err.Error(), "its subdirectories are not searched: write "+filepath.Join(nested, "...")+" to include them") {
		t.Errorf("directory with only a subdirectory: %v", err)
	}
	if _, err := LoadPaths([]string{filepath.Join(empty, "...")}); err == nil || !strings.Contains(err.Error(), "in this directory or below it") {
		t.Errorf("empty tree: %v", err)
	}
	if _, err := LoadFS(fstest.MapFS{"lib/README.md": {Data: []byte("x")}}, "lib"); err == nil || !strings.Contains(err.Error(), "no scenario files") {
		t.Errorf("LoadFS of a directory without scenarios: %v", err)
	}
}

// dir/... loads dir and every directory below it (not hidden ones); a
// plain dir loads its own files only. Names need only be unique within a
// directory.
func TestLoadPathsRecursive(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "a.yaml"), strings.Replace(okScenario, "%s", "top", 1))
	writeFile(t, filepath.Join(root, "sub", "b.yml"), strings.Replace(okScenario, "%s", "top", 1))
	writeFile(t, filepath.Join(root, "sub", "deeper", "c.yaml"), strings.Replace(okScenario, "%s", "deep", 1))
	writeFile(t, filepath.Join(root, ".git", "d.yaml"), "not: a scenario")
	writeFile(t, filepath.Join(root, "z.yaml"), strings.Replace(okScenario, "%s", "last", 1))
	scs, err := LoadPaths([]string{filepath.Join(root, "...")})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, sc := range scs {
		rel, _ := filepath.Rel(root, sc.File)
		got = append(got, filepath.ToSlash(rel))
	}
	if want := "a.yaml sub/b.yml sub/deeper/c.yaml z.yaml"; strings.Join(got, " ") != want {
		t.Errorf("loaded %v, want %s", got, want)
	}
	scs, err = LoadPaths([]string{root})
	if err != nil || len(scs) != 2 {
		t.Errorf("plain directory: %d scenarios, %v; want its own 2", len(scs), err)
	}
	writeFile(t, filepath.Join(root, "sub", "deeper", "e.yaml"), strings.Replace(okScenario, "%s", "deep", 1))
	_, err = LoadPaths([]string{filepath.Join(root, "...")})
	if err == nil || !strings.Contains(err.Error(), `duplicate scenario name "deep"`) {
		t.Errorf("duplicate within a directory: %v", err)
	}
}

// LoadFS refuses entries that are not regular files.
func TestLoadFSRefusesIrregularFiles(t *testing.T) {
	fsys := fstest.MapFS{
		"lib/a.yaml": {Data: []byte(strings.Replace(okScenario, "%s", "a", 1))},
		"lib/p.yaml": {Mode: fs.ModeNamedPipe},
	}
	_, err := LoadFS(fsys, "lib")
	if err == nil || err.Error() != "lib/p.yaml: a named pipe (FIFO), not a regular file: only regular files are loaded as scenarios" {
		t.Errorf("LoadFS with a FIFO: %v", err)
	}
}

// A long source line is shown around the column, with the caret under it.
func TestExcerptCutsLongLines(t *testing.T) {
	line := strings.Repeat("a", 5000) + "X" + strings.Repeat("b", 5000)
	got := excerpt([]string{line}, 1, 5001)
	rows := strings.Split(got, "\n")
	if len(rows) != 2 || len([]rune(rows[0])) > excerptWidth+20 {
		t.Fatalf("excerpt:\n%s", got)
	}
	src, caret := []rune(rows[0]), []rune(rows[1])
	if i := len(caret) - 1; caret[i] != '^' || src[i] != 'X' {
		t.Errorf("caret not under the column:\n%s", got)
	}
	if !strings.Contains(rows[0], "| …a") || !strings.HasSuffix(rows[0], "b…") {
		t.Errorf("cut line not marked:\n%s", got)
	}
}

// A YAML syntax error is reported from the parser's message, never from
// its own rendering of the error, which prints the surrounding tokens at a
// cost quadratic in their number: a 120 KB line of 40,000 anchors took 4 s
// and gigabytes of garbage. The work is measured in bytes allocated (the
// unbounded rendering allocates tens of gigabytes), and the parser's
// message, which may quote the rest of the line, is cut.
func TestSyntaxErrorIsCheap(t *testing.T) {
	src := []byte("name: " + strings.Repeat("&a ", 40_000))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := LoadBytes("t.yaml", src)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.HasPrefix(err.Error(), "t.yaml:1:10: unexpected scalar value type") {
		t.Fatalf("err = %v", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<30 {
		t.Errorf("loading a %d-byte line allocated %d MB", len(src), n>>20)
	}
	got, _ := firstError(t, "name: "+strings.Repeat("| ", 100_000)+"\n")
	if !strings.HasPrefix(got, "t.yaml:1:7: invalid header option") || len(got) > 300 {
		t.Errorf("message of %d bytes: %.200s", len(got), got)
	}
}
