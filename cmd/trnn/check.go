package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/graph"
)

func init() { subcommands = append(subcommands, newCheckCommand) }

func newCheckCommand() *cobra.Command {
	var resolved, dot bool
	cmd := &cobra.Command{
		Use:   "check SPEC",
		Short: "Validate a spec and print the op graph it compiles to",
		Long: `check parses and validates a spec file, compiles it, and prints the op graph
that training will run: one line per node with its op, its inputs and outputs
and their shapes, then the parameter count, then the head (sigmoid labels,
softmax classes or regression targets) and the loss that trains it.

Every problem in the spec is reported, one line each, as
file:line:col: field: what is wrong; the exit status is then 1.

With --resolved, check prints the spec itself with every default filled in
(valid YAML that parses back to the same spec); with --dot, the graph in
Graphviz's dot language.`,
		Example: `  trnn check mortality.yaml
  trnn check --resolved mortality.yaml > mortality.resolved.yaml
  trnn check --dot mortality.yaml | dot -Tsvg > mortality.svg`,
		Args: exactArgs(1, "one spec file"),
		RunE: func(c *cobra.Command, args []string) error {
			if resolved && dot {
				return usageError{fmt.Errorf("%s: --resolved and --dot are exclusive (see 'trnn check --help')", c.CommandPath())}
			}
			if err := checkSpecPath(args[0], "trnn check"); err != nil {
				return err
			}
			prog, err := compiler.CompileFile(args[0])
			if err != nil {
				return err
			}
			out := c.OutOrStdout()
			switch {
			case resolved:
				b, err := compiler.MarshalSpec(prog.Spec)
				if err != nil {
					return err
				}
				_, err = out.Write(b)
				return err
			case dot:
				return graph.WriteDot(out, prog.Graph)
			}
			if err := graph.WriteGraph(out, prog.Graph); err != nil {
				return err
			}
			_, err = fmt.Fprintln(out, compiler.DescribeHead(prog.Spec))
			return err
		},
	}
	cmd.Flags().BoolVar(&resolved, "resolved", false, "print the spec with every default filled in, instead of the graph")
	cmd.Flags().BoolVar(&dot, "dot", false, "print the graph in Graphviz's dot language")
	return cmd
}
