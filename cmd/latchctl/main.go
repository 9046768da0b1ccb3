// Command latchctl is latch's command-line tool for administrators and
// technicians. Each subcommand's code lives in its own file; the commands
// table below is the one list of them (name, summary, usage, run).
package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/latchd/latch/internal/version"
)

// command is one latchctl subcommand.
type command struct {
	name    string
	summary string
	// usage is the subcommand's usage text. When needsArgs is set and the
	// subcommand gets no arguments, run prints it to stderr and exits 2
	// before calling the subcommand, so a subcommand with needsArgs may
	// rely on len(args) > 0.
	usage     string
	needsArgs bool
	// run gets the arguments after the subcommand's name and returns the
	// process exit code. It writes results to stdout and errors to stderr.
	run func(args []string, stdout, stderr io.Writer) int
}

// commands lists every subcommand, in name order (the order usage prints).
var commands = []command{
	{name: "admin", summary: "create, list, delete admin-page accounts, change their passwords", usage: adminUsage, needsArgs: true, run: runAdmin},
	{name: "cards", summary: "list, add, activate, deactivate, delete a user's cards", usage: cardsUsage, needsArgs: true, run: runCards},
	{name: "completion", summary: "print a bash, zsh or fish completion script", usage: completionUsage, needsArgs: true, run: runCompletion},
	{name: "db", summary: "check the database file, or repair its card records (latchd stopped)", usage: dbUsage, needsArgs: true, run: runDB},
	{name: "door", summary: "door status, unlock, override, lockdown (each door's mode now and its next change)", usage: doorUsage, needsArgs: true, run: runDoor},
	{name: "duress", summary: "set or delete a user's duress code; show or clear the duress output", usage: duressUsage, needsArgs: true, run: runDuress},
	{name: "entry", summary: "set or delete a user's entry code", usage: entryUsage, needsArgs: true, run: runEntry},
	{name: "events", summary: "print stored events, or follow them live (--follow)", usage: eventsUsage, run: runEvents},
	{name: "fleet", summary: "a site's doors: controller, mode, online (on a fleet manager)", usage: fleetUsage, needsArgs: true, run: runFleet},
	{name: "import", summary: "import a users or credentials CSV file into the database (latchd stopped)", usage: importUsage, run: runImport},
	{name: "mfa", summary: "add, generate, list, replace, delete a user's MFA codes", usage: mfaUsage, needsArgs: true, run: runMFA},
	{name: "token", summary: "create, list, revoke API tokens (on the Pi, as the daemon's owner)", usage: tokenUsage, needsArgs: true, run: runToken},
	{name: "users", summary: "list, show, create, update, suspend, unsuspend, delete users", usage: usersUsage, needsArgs: true, run: runUsers},
	{name: "wiegand", summary: "encode or decode Wiegand frames (cards and keypad keys)", usage: wiegandUsage, needsArgs: true, run: runWiegand},
}

// registry is commands, for the code the commands' own run functions reach
// (their help, help.go): referring to commands from there would make its
// initialisation depend on itself.
var registry []command

func init() { registry = commands }

func lookup(name string) (command, bool) { return find(name) }

// lookupOrUsage finds the command; for an unknown one it writes so, with
// the nearest names and the usage, to w.
func lookupOrUsage(name string, w io.Writer) (command, bool) {
	c, ok := lookup(name)
	if !ok {
		fmt.Fprintf(w, "latchctl: unknown command %q%s\n", name, didYouMean(name, commandNames()))
		usage(w)
	}
	return c, ok
}

func find(name string) (command, bool) {
	for _, c := range registry {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: latchctl COMMAND [ARGS]\n\ncommands:")
	for _, c := range registry {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nlatchctl help COMMAND [ACTION] (or latchctl COMMAND [ACTION] --help) prints a command's usage and flags;\nlatchctl --version prints the version.")
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		return help(args[1:], stdout)
	case "__complete":
		complete(args[1:], stdout)
		return 0
	case "--man":
		if err := writeMan(stdout); err != nil {
			return fail(stderr, "--man", err)
		}
		return 0
	}
	if args[0] == "--version" || args[0] == "-version" || args[0] == "version" {
		fmt.Fprintln(stdout, version.Get().String("latchctl"))
		return 0
	}
	c, ok := lookupOrUsage(args[0], stderr)
	if !ok {
		return 2
	}
	if len(args) > 1 && (args[1] == "help" || isHelp(args[1:])) {
		return help(args, stdout)
	}
	if c.needsArgs && len(args) == 1 {
		fmt.Fprintln(stderr, strings.TrimSuffix(c.usage, "\n"))
		return 2
	}
	if acts := actionsOf(c); len(acts) > 0 && !strings.HasPrefix(args[1], "-") && !contains(acts, args[1]) {
		fmt.Fprintf(stderr, "latchctl %s: unknown action %q%s\n%s\n", c.name, args[1], didYouMean(args[1], acts), strings.TrimSuffix(c.usage, "\n"))
		return 2
	}
	return c.run(args[1:], stdout, stderr)
}
