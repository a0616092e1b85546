package main

import (
	"fmt"

	"github.com/ffsim/ffsim/sim/wasmhost"
	"github.com/spf13/cobra"
)

func newCacheCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cache dir|clean|prune",
		Short: "Show, prune or clean the wasm host's cache (built guests, compiled modules)",
		Long: fmt.Sprintf(`The wasm host keeps the guest it builds and wazero's compiled modules in a
cache directory (FFSIM's own subdirectory of the user cache directory). Each
ffsim source revision, Go toolchain and wazero version adds entries; after each
compilation the least recently written are removed beyond %d MiB.`, wasmhost.DefaultCacheLimit>>20),
	}
	dir := wasmhost.NewConfig().CacheDir()
	cmd.AddCommand(&cobra.Command{
		Use:   "dir",
		Short: "Print the cache directory and what it holds",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			u, err := wasmhost.Usage(dir)
			if err != nil {
				return invalid("cache %s: %v", dir, err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), dir)
			fmt.Fprintf(cmd.ErrOrStderr(), "%d files, %.1f MB, %d built guests\n", u.Files, float64(u.Bytes)/1e6, u.Guests)
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "clean",
		Short: "Remove everything ffsim put in the cache",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			n, err := wasmhost.CleanCache(dir)
			fmt.Fprintf(cmd.OutOrStdout(), "removed %.1f MB from %s\n", float64(n)/1e6, dir)
			if err != nil {
				return invalid("cache clean: %v", err)
			}
			return nil
		},
	})
	var maxMB int64
	prune := &cobra.Command{
		Use:   "prune [--max-size MB]",
		Short: "Remove the least recently written cache entries beyond a size",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if maxMB < 0 {
				return invalid("--max-size must not be negative")
			}
			n, err := wasmhost.PruneCache(dir, maxMB<<20)
			if err != nil {
				return invalid("cache prune: %v", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "removed %.1f MB from %s\n", float64(n)/1e6, dir)
			return nil
		},
	}
	prune.Flags().Int64Var(&maxMB, "max-size", wasmhost.DefaultCacheLimit>>20, "keep at most `MB` megabytes (MiB)")
	cmd.AddCommand(prune)
	return cmd
}
