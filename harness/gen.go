package harness

// docs/scenario.schema.json is Schema()'s output, committed so that editors
// find it through the yaml-language-server comment at the top of each
// scenario file. Regenerate it with `go generate ./harness`;
// TestCommittedSchemaIsCurrent fails when it is stale.

//go:generate go run ../cmd/ffsim schema -o ../docs/scenario.schema.json
