package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/trnn/trnn/compiler"
)

// flagHint is the "did you mean" for a flag the command does not have, or
// "": the command's flag nearest to it (by the edit distance the spec's
// field names use), the one flag it begins (--learning for
// --learning-rate), or the other commands that have it exactly (--per-step
// is predict's).
func flagHint(c *cobra.Command, err error) string {
	name, ok := strings.CutPrefix(err.Error(), "unknown flag: --")
	if !ok {
		return ""
	}
	var names []string
	collect := func(f *pflag.Flag) { names = append(names, f.Name) }
	c.Flags().VisitAll(collect)
	c.InheritedFlags().VisitAll(collect)
	if a, ok := flagAliases[name]; ok && c.Flags().Lookup(a) != nil {
		return "did you mean --" + a + "?"
	}
	if s := compiler.Suggest(name, names); s != "" {
		return "did you mean --" + s + "?"
	}
	var prefixed []string
	for _, n := range names {
		if strings.HasPrefix(n, name) {
			prefixed = append(prefixed, n)
		}
	}
	if len(prefixed) == 1 {
		return "did you mean --" + prefixed[0] + "?"
	}
	var owners []string
	for _, other := range c.Root().Commands() {
		if other != c && other.Flags().Lookup(name) != nil {
			owners = append(owners, "trnn "+other.Name())
		}
	}
	if len(owners) > 0 {
		return fmt.Sprintf("--%s is a flag of %s", name, strings.Join(owners, " and "))
	}
	return ""
}

// flagError is the root command's flag error function: every bad flag is a
// bad command line (status 2), named with its command and a hint.
func flagError(c *cobra.Command, err error) error {
	if hint := flagHint(c, err); hint != "" {
		return usageError{fmt.Errorf("%s: %v (%s)", c.CommandPath(), err, hint)}
	}
	return usageError{fmt.Errorf("%s: %v (see 'trnn %s --help')", c.CommandPath(), err, c.Name())}
}

// newHelpCmd replaces cobra's help command, which prints the usage and
// exits 0 for a topic it does not know: an unknown topic is a bad command
// line like an unknown command.
func newHelpCmd(root *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		RunE: func(c *cobra.Command, args []string) error {
			target, _, err := root.Find(args)
			if err != nil || target == nil || (target == root && len(args) > 0) {
				hint := "see 'trnn help' for the commands"
				if s := root.SuggestionsFor(args[0]); len(s) > 0 {
					hint = "did you mean " + strings.Join(s, " or ") + "?"
				}
				return usageError{fmt.Errorf("trnn help: unknown command %q (%s)", args[0], hint)}
			}
			return target.Help()
		},
	}
}

// flagAliases are the names other tools give to trnn's flags.
var flagAliases = map[string]string{"lr": "learning-rate", "out": "output", "batch": "batch-size", "epoch": "epochs"}

// strictCompletion makes cobra's completion command refuse a shell it does
// not know as a bad command line; by default it prints its help and exits 0.
func strictCompletion(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() != "completion" {
			continue
		}
		c.Args = func(c *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError{fmt.Errorf("%s: unknown shell %q (see 'trnn completion --help')", c.CommandPath(), args[0])}
			}
			return nil
		}
		c.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
	}
}
