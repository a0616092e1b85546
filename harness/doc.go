// Package harness loads, validates and runs ffsim scenario files.
//
// A scenario is one YAML file in the format of SPEC §4. [Load],
// [LoadBytes], [LoadPaths] and [LoadFS] parse it strictly into a
// [scenario.Scenario]: unknown keys, wrong types, malformed or negative
// durations, negative counts, anchors and tags are refused by the decoder,
// and every rule that does not need the YAML text (one action per step,
// what may run inside concurrently, expectations only where a kind takes
// them, references to declared budgets, unique ids) by
// [scenario.Scenario.Validate]. Each problem is an [*Error]
// ("file:line:col: message" followed by the offending source line with the
// column marked); all the errors found in a file are returned together as
// [Errors], and nothing runs if there is any.
//
// The format is described once: the scenario package's types and tags (a
// key's name, whether it is required, its smallest value, its allowed
// values) and its step registry, plus syntax.go here for the few types
// whose YAML form differs from their Go form (durations, offsets, steps,
// expectations). [Schema] generates the JSON Schema (draft 2020-12) that
// editors use from the same sources.
//
// Choices where SPEC §4 is silent:
//
//   - seed defaults to 0; start defaults to [scenario.DefaultStart];
//     supervisor (and each of its intervals) defaults to 0s, which disables
//     the reconciler (S1).
//   - Only a budget's id is required; the other fields have the defaults
//     [scenario.Budget] lists.
//   - OFFSET values are non-negative Go durations measured from t=0; only
//     the fields documented so may be null.
//   - Durations are strings in Go syntax without a sign ("0s", "250ms",
//     "1h30m"); a bare integer such as 0 is a type error.
//   - A budget may be referenced once it is declared under budgets: or
//     created by a create_budget step that comes before the referencing
//     step; budgets created inside a concurrently step become known after
//     that whole step, since the order inside it is the seed's.
//   - YAML anchors, aliases, merge keys and explicit tags are rejected, so
//     that every value has one position in the file.
//   - A UTF-8 byte order mark at the start of a file is ignored.
//   - Text that reports echo (names, ids, keys, every string value) must
//     be printable: control characters, line separators and bidirectional
//     overrides are refused, since a name with a newline forged report
//     lines. A description may hold newlines and tabs; a mark_worker_dead
//     reason may hold anything (the store's refusal is what it tests).
//   - An integer that does not fit in 64 bits is "out of range" (the YAML
//     parser would otherwise leave it as a string).
//
// Hostile input is refused before it can cost much: a file over
// [DefaultMaxFileSize] (see [WithMaxFileSize]) is not read, only regular
// files are opened (never a FIFO or a device, even through a link), and
// the tokens are checked against [MaxNesting], [MaxMappingKeys] and
// [MaxListItems] before the YAML parser, whose cost grows faster than its
// input, builds anything. "Did you mean" hints are bounded per file.
// [Errors] prints at most [MaxErrorsShown] errors and says how many more
// there are, and excerpts cut long lines around the column.
//
// [LoadPaths] takes files, directories (their own *.yaml and *.yml files)
// and dir/... patterns (every directory below dir too); a directory
// argument without scenario files is an error.
//
// [Run] and [RunDir] run scenarios as Go subtests, on the native host or
// the one [WithHost] names.
package harness
