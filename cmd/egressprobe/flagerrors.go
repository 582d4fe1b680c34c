package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"egressprobe/internal/quote"
)

// Every flag error has one shape, "--flag: what is wrong; the fix", whether
// pflag found it (an unknown flag, a value of the wrong type) or a command's
// own validation did (flagErrorf).

// flagErrorf is a usage error about one flag: "--name: <message>".
func flagErrorf(name, format string, a ...any) error {
	return usageErrorf("%s: %s", name, fmt.Sprintf(format, a...))
}

// oneOf checks value against the valid names (case-insensitive); the error
// suggests the closest one, else lists them all.
func oneOf(flag, what, value string, valid []string) error {
	if slices.Contains(valid, strings.ToLower(strings.TrimSpace(value))) {
		return nil
	}
	return flagErrorf(flag, "unknown %s %s%s", what, quote.Q(value), quote.OneOf(value, valid))
}

// flagError rewrites pflag's errors into the one shape, with a suggestion for
// a mistyped flag and an example of the value a typed flag takes.
func flagError(cmd *cobra.Command, err error) error {
	var (
		notExist *pflag.NotExistError
		required *pflag.ValueRequiredError
		invalid  *pflag.InvalidValueError
		syntax   *pflag.InvalidSyntaxError
	)
	switch {
	case errors.As(err, &notExist):
		name := notExist.GetSpecifiedName()
		if short := notExist.GetSpecifiedShortnames(); short != "" {
			in := ""
			if len(short) > 1 {
				in = " (in -" + short + ")"
			}
			return flagErrorf("-"+name, "unknown flag for '%s'%s; run '%s --help'", cmd.CommandPath(), in, cmd.CommandPath())
		}
		if s := quote.Suggest(name, flagNames(cmd)); s != "" {
			return flagErrorf("--"+name, "unknown flag for '%s'; did you mean --%s?", cmd.CommandPath(), s)
		}
		return flagErrorf("--"+name, "unknown flag for '%s'; run '%s --help'", cmd.CommandPath(), cmd.CommandPath())
	case errors.As(err, &required):
		f := required.GetFlag()
		return flagErrorf(flagName(f), "needs a value, e.g. --%s %s", f.Name, exampleValue(f))
	case errors.As(err, &invalid):
		f := invalid.GetFlag()
		return flagErrorf(flagName(f), "%s is not %s", quote.Q(invalid.GetValue()), wantValue(f))
	case errors.As(err, &syntax):
		return usageErrorf("%s: bad flag syntax; write --name VALUE, --name=VALUE or -n VALUE", quote.Q(syntax.GetSpecifiedFlag()))
	}
	return &usageError{err}
}

// flagName is how a flag is written in errors: its long name.
func flagName(f *pflag.Flag) string { return "--" + f.Name }

// flagNames are the long names of every flag cmd accepts, inherited ones too.
func flagNames(cmd *cobra.Command) []string {
	var names []string
	add := func(f *pflag.Flag) { names = append(names, f.Name) }
	cmd.Flags().VisitAll(add)
	cmd.InheritedFlags().VisitAll(add)
	return names
}

// wantValue says what a typed flag takes, with an example.
func wantValue(f *pflag.Flag) string {
	switch f.Value.Type() {
	case "duration":
		return "a duration with a unit, e.g. " + exampleValue(f)
	case "bool":
		return fmt.Sprintf("true or false (--%s alone means true)", f.Name)
	case "int", "int64", "uint16":
		return "a whole number, e.g. " + exampleValue(f)
	}
	return "a valid value, e.g. " + exampleValue(f)
}

// exampleValue is one value a flag takes: its default, else its placeholder.
func exampleValue(f *pflag.Flag) string {
	switch f.Value.Type() {
	case "duration":
		return "5s"
	case "bool":
		return "true"
	}
	if f.DefValue != "" && f.DefValue != "[]" {
		return f.DefValue
	}
	if name, _ := pflag.UnquoteUsage(f); name != "" {
		return name
	}
	return "VALUE"
}
