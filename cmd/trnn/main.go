// Command trnn compiles, trains, evaluates, exports and runs sequence
// classifiers trained with target replication. Run `trnn help` for the
// commands.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// version is the trnn release; it is written into exported models.
var version = "0.1.0-dev"

// subcommands holds a constructor for each subcommand; every command's file
// registers its own in an init function.
var subcommands []func() *cobra.Command

// usageError marks a bad command line (exit status 2) as opposed to bad
// input or a failed job (exit status 1).
type usageError struct{ error }

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

// run executes the command line args and returns the exit status. Every
// error reaches the user as one line per problem; a panic, which would be a
// bug in trnn, is reported in one line too and never as a stack trace.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) (status int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "trnn: internal error (please report it): %v\n", r)
			status = 70
		}
	}()
	root := &cobra.Command{
		Use:   "trnn",
		Short: "Sequence classifiers trained with target replication, exported to ONNX",
		Long: `trnn compiles a declarative spec into an LSTM or GRU classifier, trains it
with the target-replication objective (Lipton et al., ICLR 2016) on padded,
variable-length sequences, and exports an ONNX model that predicts from each
sequence's last valid step.`,
		Version:                    version,
		SuggestionsMinimumDistance: 2,
		// An unknown subcommand is a bad command line (status 2).
		Args: func(c *cobra.Command, args []string) error {
			if len(args) > 0 {
				hint := "see 'trnn help' for the commands"
				if s := c.SuggestionsFor(args[0]); len(s) > 0 {
					hint = "did you mean " + strings.Join(s, " or ") + "?"
				}
				return usageError{fmt.Errorf("trnn: unknown command %q (%s)", args[0], hint)}
			}
			return nil
		},
		RunE:          func(c *cobra.Command, _ []string) error { return c.Help() },
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(flagError)
	root.SetHelpCommand(newHelpCmd(root))
	for _, mk := range subcommands {
		root.AddCommand(mk())
	}
	strictCompletion(root)
	err := root.Execute()
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, err)
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

// exactArgs is cobra.ExactArgs with a usage error that names the command.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError{fmt.Errorf("%s: expected %s, got %d argument(s) (see 'trnn %s --help')", c.CommandPath(), what, len(args), c.Name())}
		}
		return nil
	}
}
