package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/data"
)

// mapColumns applies --columns ROLE=NAME,... to s: the roles are id, step
// and the model's feature and label names (id and step name those roles
// even when a feature has that name), and NAME is the CSV file's column
// for the role. A role given twice, an unknown role and two roles sharing
// one column are errors.
func mapColumns(s *data.Schema, spec *compiler.Spec, value string) error {
	cols := &s.Columns
	cols.Features, cols.Labels = slices.Clone(cols.Features), slices.Clone(cols.Labels)
	features, labels := spec.Inputs.FeatureNames, spec.Outputs.LabelNames
	given := map[string]bool{}
	for _, item := range strings.Split(value, ",") {
		role, name, ok := strings.Cut(item, "=")
		role, name = strings.TrimSpace(role), strings.TrimSpace(name)
		switch {
		case !ok || role == "" || name == "":
			return fmt.Errorf("expected ROLE=NAME items separated by commas, found %q", item)
		case given[role]:
			return fmt.Errorf("role %q is given twice", role)
		}
		given[role] = true
		switch i, k := slices.Index(features, role), slices.Index(labels, role); {
		case role == "id":
			cols.ID = name
		case role == "step":
			cols.Step, s.StepOptional = name, false
		case i >= 0:
			cols.Features[i] = name
		case k >= 0:
			cols.Labels[k] = name
		default:
			return unknownRole(role, features, labels)
		}
	}
	return sharedColumn(*cols, features, labels)
}

// unknownRole reports a role that is neither id, step, nor one of the
// model's features and labels, with the nearest one.
func unknownRole(role string, features, labels []string) error {
	roles := append(append([]string{"id", "step"}, features...), labels...)
	hint := ""
	if s := compiler.Suggest(role, roles); s != "" {
		hint = fmt.Sprintf(" (did you mean %s?)", s)
	}
	return fmt.Errorf("%q is not a role of the model%s; roles are id, step, its features (%s) and its labels (%s)",
		role, hint, listSome(features), listSome(labels))
}

// sharedColumn reports a CSV column that two roles would read.
func sharedColumn(cols data.Columns, features, labels []string) error {
	role := map[string]string{cols.ID: "the id"}
	add := func(name, what string) error {
		if prev, ok := role[name]; ok {
			return fmt.Errorf("column %q would be both %s and %s", name, prev, what)
		}
		role[name] = what
		return nil
	}
	if cols.Step != "" {
		if err := add(cols.Step, "the step"); err != nil {
			return err
		}
	}
	for i, c := range cols.Features {
		if err := add(c, fmt.Sprintf("feature %s", features[i])); err != nil {
			return err
		}
	}
	for k, c := range cols.Labels {
		if err := add(c, fmt.Sprintf("label %s", labels[k])); err != nil {
			return err
		}
	}
	return nil
}

// listSome lists up to 10 names.
func listSome(names []string) string {
	const most = 10
	s := strings.Join(names[:min(most, len(names))], ", ")
	if len(names) > most {
		s += fmt.Sprintf(" and %d more", len(names)-most)
	}
	return s
}
