package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"egressprobe/internal/quote"
	"egressprobe/plan"
)

// Exit statuses, documented in the README.
const (
	exitOK      = 0 // every result ok
	exitFailure = 1 // the run completed but something is not ok, or an operational failure
	exitUsage   = 2 // bad usage or bad input
)

// streams are the process's standard files, passed down so that commands never
// reach for os.Stdout themselves and tests can capture everything.
type streams struct {
	In     io.Reader
	Out    io.Writer
	Err    io.Writer
	OutTTY bool // stdout is a terminal: colour allowed
	ErrTTY bool // stderr is a terminal: progress allowed
	Width  int  // stdout's terminal width in columns; 0 when not a terminal
	Getenv func(string) string
}

func systemStreams() *streams {
	width := 0
	if w, _, err := term.GetSize(int(os.Stdout.Fd())); err == nil {
		width = w
	}
	return &streams{
		Width:  width,
		In:     os.Stdin,
		Out:    os.Stdout,
		Err:    os.Stderr,
		OutTTY: term.IsTerminal(int(os.Stdout.Fd())),
		ErrTTY: term.IsTerminal(int(os.Stderr.Fd())),
		Getenv: os.Getenv,
	}
}

// usageError marks bad usage or bad input: exit status 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usageErrorf(format string, a ...any) error {
	return &usageError{fmt.Errorf(format, a...)}
}

// errFailed reports that the command ran and printed its output in full, but at
// least one result is not ok: exit status 1 with nothing more to say on stderr.
var errFailed = errors.New("at least one result failed")

// exitCode maps the error a command returned to the process exit status: bad
// flags and bad options of a plan are usage errors.
func exitCode(err error) int {
	var (
		ue *usageError
		pe *plan.InputError
	)
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue), errors.As(err, &pe):
		return exitUsage
	default:
		return exitFailure
	}
}

// run executes the CLI with args and returns the exit status; errors are printed
// to s.Err as a single line.
func run(ctx context.Context, args []string, s *streams) int {
	root := newRootCmd(s)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err != nil && !errors.Is(err, errFailed) {
		fmt.Fprintf(s.Err, "egressprobe: %v\n", err)
	}
	return exitCode(err)
}

func newRootCmd(s *streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "egressprobe",
		Short: "Find which hop blocks the MARS backup agent's way to Azure",
		Long: `egressprobe probes the endpoints the Microsoft Azure Recovery Services (MARS) agent
needs over HTTPS/443 and tells, per endpoint and per IP, which hop fails:
DNS, TCP, proxy CONNECT or TLS, and which Azure service tags each IP is in.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.Err)
	// A flag cobra cannot parse is bad usage (exit 2), not a failure.
	root.SetFlagErrorFunc(flagError)
	root.AddCommand(
		newCheckCmd(s, runCheck),
		newVersionCmd(s),
		newTargetsCmd(s),
		newServiceTagsCmd(s),
		newTargetsFileHelp(),
		newDaemonCmd(s),
		newServiceCmd(s),
	)
	wrapUsageErrors(root)
	return root
}

// wrapUsageErrors makes every command's positional-argument validation and
// unknown-subcommand errors usage errors, so they exit 2.
func wrapUsageErrors(c *cobra.Command) {
	if c.Args != nil {
		args := c.Args
		c.Args = func(cmd *cobra.Command, a []string) error {
			if err := args(cmd, a); err != nil {
				return &usageError{err}
			}
			return nil
		}
	}
	if c.HasSubCommands() && c.RunE == nil && c.Run == nil {
		c.Args = func(cmd *cobra.Command, a []string) error {
			if len(a) > 0 {
				return unknownCommand(cmd, a[0])
			}
			return nil
		}
		c.RunE = func(cmd *cobra.Command, _ []string) error {
			return usageErrorf("%s needs a subcommand; run '%s --help'", cmd.CommandPath(), cmd.CommandPath())
		}
	}
	for _, sub := range c.Commands() {
		wrapUsageErrors(sub)
	}
}

// unknownCommand names the closest subcommand of cmd to a mistyped one.
func unknownCommand(cmd *cobra.Command, name string) error {
	var names []string
	for _, sub := range cmd.Commands() {
		if sub.IsAvailableCommand() {
			names = append(names, sub.Name())
			names = append(names, sub.Aliases...)
		}
	}
	if s := quote.Suggest(name, names); s != "" {
		return usageErrorf("unknown command %s for '%s'; did you mean '%s %s'?", quote.Q(name), cmd.CommandPath(), cmd.CommandPath(), s)
	}
	return usageErrorf("unknown command %s for '%s'; run '%s --help'", quote.Q(name), cmd.CommandPath(), cmd.CommandPath())
}
