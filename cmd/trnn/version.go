package main

import (
	"fmt"
	goruntime "runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/trnn/trnn/graph"
)

func init() { subcommands = append(subcommands, newVersionCmd) }

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print trnn's version and the ONNX opsets it writes and reads",
		Long: `Version prints trnn's version (the one written into exported models'
producer_version), the Go release that built it, the source revision when
the build recorded one, and the ONNX opsets trnn exports and imports.`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 0 {
				return usageError{fmt.Errorf("%s: takes no arguments, got %q (see 'trnn %s --help')", c.CommandPath(), args[0], c.Name())}
			}
			return nil
		},
		RunE: func(c *cobra.Command, _ []string) error {
			out := c.OutOrStdout()
			fmt.Fprintf(out, "trnn %s (%s, %s/%s)\n", version, goruntime.Version(), goruntime.GOOS, goruntime.GOARCH)
			if rev := revision(); rev != "" {
				fmt.Fprintf(out, "revision %s\n", rev)
			}
			fmt.Fprintf(out, "ONNX: writes opsets %d to %d (default %d), reads %d to %d\n",
				graph.MinOpset, graph.MaxOpset, graph.DefaultOpset, graph.MinReadOpset, graph.MaxReadOpset)
			return nil
		},
	}
}

// revision is the version control revision the binary was built from, with
// "+dirty" when the tree had changes, or "" when the build did not record
// it (go test, go run).
func revision() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	var rev, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if rev == "" {
		return ""
	}
	return rev + dirty
}
