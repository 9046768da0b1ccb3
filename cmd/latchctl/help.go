package main

// Help, "did you mean", completion and the man page, all derived from the
// commands table and each command's usage text: a command added to the
// table gets them without code of its own. An action is the word after
// "latchctl CMD" on a usage line ("users list", "cards activate|deactivate");
// an action's flags are the --flags on its usage lines, the lines that name
// no action (notes such as "Connection: --socket PATH …") and the
// connection flags (addConnFlags).

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	suggest_ "github.com/latchd/latch/internal/suggest"
)

// usageLine is one "latchctl CMD …" line of a usage text, split into words.
func usageLines(c command) [][]string {
	var out [][]string
	for _, line := range strings.Split(c.usage, "\n") {
		line = strings.TrimPrefix(strings.TrimSpace(line), "usage:")
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "latchctl" && f[1] == c.name {
			out = append(out, f[2:])
		}
	}
	return out
}

var actionWord = regexp.MustCompile(`^[a-z][a-z0-9-]*(\|[a-z][a-z0-9-]*)*$`)

// lineActions are the actions a usage line's first word names.
func lineActions(words []string) []string {
	if len(words) == 0 || !actionWord.MatchString(words[0]) {
		return nil
	}
	return strings.Split(words[0], "|")
}

// actionsOf lists c's actions in usage order; nil for a command that takes
// none (events, import).
func actionsOf(c command) []string {
	var out []string
	seen := map[string]bool{}
	for _, words := range usageLines(c) {
		for _, a := range lineActions(words) {
			if !seen[a] {
				seen[a] = true
				out = append(out, a)
			}
		}
	}
	return out
}

var flagWord = regexp.MustCompile(`--([a-z][a-z0-9-]*)`)

// actionText is the part of c's usage for action: its own usage lines and
// every line that is not another action's ("" action: the whole text).
func actionText(c command, action string) string {
	if action == "" {
		return strings.TrimRight(c.usage, "\n")
	}
	var out []string
	for _, line := range strings.Split(strings.TrimRight(c.usage, "\n"), "\n") {
		t := strings.TrimPrefix(strings.TrimSpace(line), "usage:")
		f := strings.Fields(t)
		if len(f) >= 2 && f[0] == "latchctl" && f[1] == c.name {
			acts := lineActions(f[2:])
			if len(acts) > 0 && !contains(acts, action) {
				continue
			}
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// flagsOf are the flag names (without dashes) that c's usage text shows for
// action, and the connection flags.
func flagsOf(c command, action string) []string {
	seen := map[string]bool{}
	for _, m := range flagWord.FindAllStringSubmatch(actionText(c, action), -1) {
		seen[m[1]] = true
	}
	for _, n := range connFlagNames() {
		seen[n] = true
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func connFlagNames() []string {
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	addConnFlags(fs)
	var out []string
	fs.VisitAll(func(f *flag.Flag) { out = append(out, f.Name) })
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// setActionUsage makes fs's usage (on a flag error or --help) the action's
// usage lines and only the flags that action takes: fs is named "latchctl
// CMD" or "latchctl CMD ACTION" (newFlags).
func setActionUsage(fs *flag.FlagSet) {
	words := strings.Fields(fs.Name())
	if len(words) < 2 {
		return
	}
	c, ok := lookup(words[1])
	if !ok {
		return
	}
	action := ""
	if len(words) > 2 {
		action = words[2]
	}
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintln(w, actionText(c, action))
		keep := map[string]bool{}
		if contains(actionsOf(c), action) {
			for _, n := range flagsOf(c, action) {
				keep[n] = true
			}
		}
		shown := flag.NewFlagSet(fs.Name(), flag.ContinueOnError)
		shown.SetOutput(w)
		fs.VisitAll(func(f *flag.Flag) {
			if len(keep) == 0 || keep[f.Name] {
				shown.Var(f.Value, f.Name, f.Usage)
				shown.Lookup(f.Name).DefValue = f.DefValue
			}
		})
		fmt.Fprintln(w, "\nflags:")
		shown.PrintDefaults()
	}
}

// suggest returns the candidates close to s (internal/suggest).
func suggest(s string, candidates []string) []string { return suggest_.Close(s, candidates) }

// didYouMean is the hint after an unknown word: ` (did you mean "list"?)`.
func didYouMean(s string, candidates []string) string { return suggest_.Hint(s, candidates) }

// isHelp reports a -h, -help or --help among args (before a "--").
func isHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}

// help runs "latchctl help [CMD [ACTION]]", "latchctl CMD --help" and
// "latchctl CMD ACTION … --help": the usage on stdout, exit 0.
func help(args []string, stdout io.Writer) int {
	if len(args) == 0 {
		usage(stdout)
		return 0
	}
	c, ok := lookupOrUsage(args[0], stdout)
	if !ok {
		return 2
	}
	action := ""
	if len(args) > 1 && contains(actionsOf(c), args[1]) {
		action = args[1]
	}
	if action == "" && !(len(args) > 1 && actionsOf(c) == nil && isHelp(args[1:])) {
		fmt.Fprintln(stdout, actionText(c, ""))
		return 0
	}
	// The command's own flag set prints the action's usage and flags on
	// -h: run it with --help and both outputs on stdout.
	rest := []string{}
	if action != "" {
		rest = append(rest, action)
	}
	var b bytes.Buffer
	c.run(append(rest, "--help"), &b, &b)
	if b.Len() == 0 {
		fmt.Fprintln(stdout, actionText(c, action))
		return 0
	}
	stdout.Write(b.Bytes())
	return 0
}

func commandNames() []string {
	out := make([]string, 0, len(commands)+2)
	for _, c := range commands {
		out = append(out, c.name)
	}
	return append(out, "help")
}
