package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/ffsim/ffsim/sim/wasmhost"
	"github.com/spf13/cobra"
)

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print ffsim's version, source revision, Go version and wasm guest key",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := cmd.OutOrStdout()
			version, revision, modified := "(devel)", "unknown", false
			if bi, ok := debug.ReadBuildInfo(); ok {
				if bi.Main.Version != "" {
					version = bi.Main.Version
				}
				for _, s := range bi.Settings {
					switch s.Key {
					case "vcs.revision":
						revision = s.Value
					case "vcs.modified":
						modified = s.Value == "true"
					}
				}
			}
			if modified {
				revision += " (modified)"
			}
			fmt.Fprintf(w, "ffsim %s\nrevision   %s\ngo         %s %s/%s\n", version, revision, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			// The key needs the go command (it hashes the toolchain's
			// version); bound it so a broken toolchain cannot hang version.
			ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second)
			defer cancel()
			key, err := wasmhost.GuestKey(ctx, wasmhost.NewConfig())
			if err != nil {
				key = "unknown: " + err.Error()
			}
			fmt.Fprintf(w, "guest key  %s\ncache      %s\n", key, wasmhost.NewConfig().CacheDir())
			return nil
		},
	}
}
