package main

// latchctl completion bash|zsh|fish and latchctl --man. The scripts ask
// latchctl itself ("latchctl __complete WORDS…") for the candidates, which
// come from the commands table and the usage texts (help.go): they never
// go stale when a command or flag is added.

import (
	"fmt"
	"io"
	"strings"

	"github.com/latchd/latch/internal/manpage"
	"github.com/latchd/latch/internal/version"
)

const completionUsage = `usage:
  latchctl completion bash|zsh|fish
Prints a completion script for the shell. Load it now with
  source <(latchctl completion bash)       (zsh: the same with zsh)
  latchctl completion fish | source
The .deb installs all three, so completion works in a new shell.`

func runCompletion(args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintln(stderr, completionUsage)
		return 2
	}
	script, ok := map[string]string{"bash": bashCompletion, "zsh": zshCompletion, "fish": fishCompletion}[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "latchctl completion: unknown shell %q%s\n%s\n", args[0], didYouMean(args[0], []string{"bash", "zsh", "fish"}), completionUsage)
		return 2
	}
	fmt.Fprint(stdout, script)
	return 0
}

const bashCompletion = `# bash completion for latchctl (latchctl completion bash)
_latchctl() {
	local cur=${COMP_WORDS[COMP_CWORD]} IFS=$'\n'
	COMPREPLY=($(compgen -W "$(latchctl __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)" -- "$cur"))
}
complete -o default -F _latchctl latchctl
`

const zshCompletion = `#compdef latchctl
# zsh completion for latchctl (latchctl completion zsh)
_latchctl() {
	local -a c
	c=("${(@f)$(latchctl __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")
	if [[ -n ${c[1]} ]]; then compadd -a c; else _files; fi
}
if [[ $funcstack[1] == _latchctl ]]; then _latchctl "$@"; else compdef _latchctl latchctl; fi
`

const fishCompletion = `# fish completion for latchctl (latchctl completion fish)
function __latchctl_complete
	set -l words (commandline -opc) (commandline -ct)
	latchctl __complete $words[2..-1] 2>/dev/null
end
complete -c latchctl -a '(__latchctl_complete)'
`

// complete prints the candidates for the last of words (the word being
// typed, maybe ""), one per line; nothing lets the shell complete files.
func complete(words []string, stdout io.Writer) {
	if len(words) == 0 {
		words = []string{""}
	}
	cur := words[len(words)-1]
	var cands []string
	switch {
	case len(words) == 1:
		cands = append(commandNames(), "--version", "--help")
	case words[0] == "help":
		if len(words) == 2 {
			cands = commandNames()
		} else if c, ok := find(words[1]); ok && len(words) == 3 {
			cands = actionsOf(c)
		}
	default:
		c, ok := find(words[0])
		if !ok {
			return
		}
		acts := actionsOf(c)
		action := ""
		if len(acts) > 0 && len(words) >= 3 {
			action = words[1]
		}
		switch {
		case strings.HasPrefix(cur, "-"):
			for _, f := range flagsOf(c, action) {
				cands = append(cands, "--"+f)
			}
			cands = append(cands, "--help")
		case len(words) == 2 && len(acts) > 0:
			cands = acts
		}
	}
	for _, s := range cands {
		if strings.HasPrefix(s, cur) {
			fmt.Fprintln(stdout, s)
		}
	}
}

// writeMan prints latchctl(1), from the same text usage and --help print.
func writeMan(w io.Writer) error {
	v := version.Get()
	var top strings.Builder
	usage(&top)
	p := manpage.Page{
		Name: "latchctl", Section: "1", Summary: "manage latch's users, credentials, doors, tokens and events",
		Version: "latch " + v.Version, Date: manDate(v.Date),
		Synopsis: "latchctl COMMAND [ACTION] [ARGS] [FLAGS]\nlatchctl help [COMMAND [ACTION]]\nlatchctl COMMAND [ACTION] --help\nlatchctl --version",
		Description: `latchctl is the administrator's and technician's tool for latchd, the door controller.
Most commands talk to the running latchd over its API: the Unix socket of [api] socket in /etc/latch/latch.toml by default, or --url over TCP, with a token from --token-file FILE, $LATCH_TOKEN_FILE or $LATCH_TOKEN.
The token, db and import commands work on the database file directly and run on the controller itself.

Each command below prints the same text for "latchctl help COMMAND"; "latchctl COMMAND ACTION --help" adds the flags of that action.`,
		SeeAlso: []string{"latchd(8)"},
	}
	var cmds []manpage.Section
	for _, c := range registry {
		cmds = append(cmds, manpage.Section{Title: c.name, Text: c.summary, Pre: strings.TrimPrefix(strings.TrimSpace(c.usage), "usage:")})
	}
	p.Sections = []manpage.Section{
		{Title: "COMMANDS", Subs: cmds},
		{Title: "ENVIRONMENT", Text: "LATCH_TOKEN_FILE: a file holding the API token (mode 600).\n\nLATCH_TOKEN: the API token itself.\n\nLATCH_CA: with an https --url, the PEM certificate (or its CA) latchd serves."},
		{Title: "EXIT STATUS", Text: "0 on success, 1 when the operation failed (the message says why and what to do), 2 on a usage error."},
	}
	return manpage.Write(w, p)
}

// manDate is the date part of the build date, "" when unknown.
func manDate(d string) string {
	if len(d) >= 10 && d[4] == '-' {
		return d[:10]
	}
	return ""
}
