package main

import (
	"fmt"
	"os"

	"github.com/ffsim/ffsim/harness"
	"github.com/spf13/cobra"
)

func newValidateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "validate [PATH...]",
		Short: "Parse and check scenario files without running them",
		RunE: func(cmd *cobra.Command, args []string) error {
			scs, err := loadScenarios(args)
			if err != nil {
				return err
			}
			for _, sc := range scs {
				fmt.Fprintf(cmd.OutOrStdout(), "ok   %s (%s, %d steps)\n", sc.Name, sc.File, len(sc.Steps))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d valid\n", len(scs))
			return nil
		},
	}
}

func newSchemaCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "schema [-o FILE]",
		Short: "Print the JSON Schema of the scenario format (for editors)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := harness.Schema()
			if err != nil {
				return err
			}
			b = append(b, '\n')
			if out != "" {
				return os.WriteFile(out, b, 0o644)
			}
			_, err = cmd.OutOrStdout().Write(b)
			return err
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "write the schema to `FILE` instead of stdout")
	return cmd
}

func newListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the embedded scenario library",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			scs, err := loadScenarios(nil)
			if err != nil {
				return err
			}
			for _, sc := range scs {
				fmt.Fprintf(cmd.OutOrStdout(), "%-44s %s\n", sc.File, sc.Name)
			}
			return nil
		},
	}
}
