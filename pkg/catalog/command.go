package catalog

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"
)

// What a command line does, as far as the lint needs to know: whether it is
// a command at all (not a bare flag, a shell prompt or prose), which
// programs it runs, and whether any of them changes the system (stops,
// restarts or kills a process, installs a package, writes or removes a
// file). A diagnostic only looks; what changes the system belongs to the
// remediation, marked as such.

// shellWord is one word of a command line.
type shellWord struct {
	text   string // as the program receives it: quotes and escapes removed
	quoted bool   // some of it was quoted
}

// shellLine is a command line cut into what the lint looks at.
type shellLine struct {
	stages    [][]shellWord // simple commands, split on | || && ; &
	subs      []string      // the insides of $(...) and `...`, each a line of its own
	redirects []string      // the targets of > and >> (and of < for a read)
	reads     []string      // the sources of <
	vars      []string      // $NAME and ${NAME} used outside single quotes
	quotedPHs []string      // {name} placeholders written inside quotes
	handPHs   []string      // <name> placeholders
	err       string        // a quote or parenthesis left open
}

// parseShell cuts a command line the way a POSIX shell would, well enough
// for the lint: quotes, escapes, operators, redirections, command
// substitutions and variables. It does not expand anything.
func parseShell(s string) shellLine {
	var l shellLine
	var cur []shellWord
	var w strings.Builder
	inWord, quoted := false, false
	endWord := func() {
		if inWord {
			cur = append(cur, shellWord{text: w.String(), quoted: quoted})
		}
		w.Reset()
		inWord, quoted = false, false
	}
	endStage := func() {
		endWord()
		if len(cur) > 0 {
			l.stages = append(l.stages, cur)
		}
		cur = nil
	}
	// placeholder notes a {name} at s[i:] written inside quotes.
	placeholder := func(i int) {
		if s[i] != '{' {
			return
		}
		if _, j, name := nextPlaceholder(s[i:]); j > 0 && strings.HasPrefix(s[i:], "{"+name+"}") {
			l.quotedPHs = append(l.quotedPHs, name)
		}
	}
	// dollar handles a $ at s[i] outside single quotes and returns the
	// index of the last byte it used.
	dollar := func(i int) int {
		if i+1 < len(s) && s[i+1] == '(' {
			end := matchParen(s, i+1)
			if end < 0 {
				l.err = "a $( is not closed"
				return len(s) - 1
			}
			l.subs = append(l.subs, s[i+2:end])
			w.WriteString("$(...)")
			inWord = true
			return end
		}
		if m := varRE.FindString(s[i:]); m != "" {
			l.vars = append(l.vars, m)
			w.WriteString(m)
			inWord = true
			return i + len(m) - 1
		}
		w.WriteByte('$')
		inWord = true
		return i
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			w.WriteByte(s[i+1])
			inWord, quoted = true, true
			i++
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				l.err = "a ' is not closed"
				end = len(s) - i - 1
			}
			for k := i + 1; k < i+1+end; k++ {
				placeholder(k)
			}
			w.WriteString(s[i+1 : i+1+end])
			inWord, quoted = true, true
			i += end + 1
		case c == '"':
			inWord, quoted = true, true
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				switch s[j] {
				case '\\':
					if j+1 < len(s) {
						j++
						w.WriteByte(s[j])
					}
				case '$':
					j = dollar(j)
				default:
					placeholder(j)
					w.WriteByte(s[j])
				}
			}
			if j >= len(s) {
				l.err = `a " is not closed`
			}
			i = j
		case c == '`':
			end := strings.IndexByte(s[i+1:], '`')
			if end < 0 {
				l.err = "a ` is not closed"
				end = len(s) - i - 1
			}
			l.subs = append(l.subs, s[i+1:i+1+end])
			w.WriteString("`...`")
			inWord = true
			i += end + 1
		case c == '$':
			i = dollar(i)
		case c == ' ' || c == '\t' || c == '\n':
			endWord()
		case c == '|' || c == ';' || c == '&' && !(i > 0 && s[i-1] == '>'):
			if c == '&' && i+1 < len(s) && s[i+1] == '>' {
				// &> file: a redirection of both outputs
				endWord()
				i = redirect(s, i+2, &l.redirects)
				continue
			}
			endStage()
			if i+1 < len(s) && (s[i+1] == c) {
				i++
			}
		case c == '<' && handPlaceholderLT.MatchString(s[i:]):
			// <name>: a placeholder left for a person to fill in
			m := handPlaceholderLT.FindStringSubmatch(s[i:])
			l.handPHs = append(l.handPHs, m[1])
			w.WriteString(m[0])
			inWord = true
			i += len(m[0]) - 1
		case c == '>' || c == '<':
			// N> and N>&M: the digits before belong to the redirection
			if inWord && isDigits(w.String()) && !quoted {
				w.Reset()
				inWord = false
			}
			endWord()
			j := i + 1
			if j < len(s) && s[j] == '>' {
				j++
			}
			if c == '<' {
				i = redirect(s, j, &l.reads)
			} else {
				i = redirect(s, j, &l.redirects)
			}
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	endStage()
	return l
}

var varRE = regexp.MustCompile(`^\$(?:[A-Za-z_][A-Za-z0-9_]*|\{[A-Za-z_][A-Za-z0-9_]*\})`)

// redirect reads the target of a redirection starting at s[i] (after
// blanks) into out and returns the index of its last byte.
func redirect(s string, i int, out *[]string) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	j := i
	for j < len(s) && !strings.ContainsRune(" \t|;&<>", rune(s[j])) || j < len(s) && s[j] == '&' && j == i {
		j++
	}
	*out = append(*out, s[i:j])
	return j - 1
}

// matchParen returns the index of the ) that closes the ( at s[open].
func matchParen(s string, open int) int {
	depth := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return -1
			}
			i += end + 1
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// program returns the program a simple command runs and its arguments,
// past variable assignments and the wrappers that run another command
// (sudo and its options, env, nice, timeout, watch, xargs).
func program(words []shellWord) (string, []shellWord) {
	for len(words) > 0 {
		w := words[0].text
		switch {
		case assignRE.MatchString(w) && !words[0].quoted:
			words = words[1:]
		case w == "sudo" || w == "env" || w == "nice" || w == "ionice" || w == "watch" || w == "xargs" || w == "time" || w == "stdbuf" || w == "command":
			words = words[1:]
			for len(words) > 0 && strings.HasPrefix(words[0].text, "-") {
				opt := words[0].text
				words = words[1:]
				if (opt == "-u" || opt == "-g" || opt == "-n" || opt == "-c" || opt == "-C" || opt == "-d") && len(words) > 0 {
					words = words[1:] // an option with a value: sudo -u www-data, nice -n 10, watch -n 1
				}
			}
			for len(words) > 0 && w == "env" && assignRE.MatchString(words[0].text) {
				words = words[1:]
			}
		case w == "timeout":
			words = words[1:]
			for len(words) > 0 && strings.HasPrefix(words[0].text, "-") {
				words = words[1:]
			}
			if len(words) > 0 {
				words = words[1:] // the duration
			}
		default:
			return path.Base(w), words[1:]
		}
	}
	return "", nil
}

var assignRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)

// A programRule says what a program with these arguments changes on the
// system: "" when it only looks; a message starting with notRunnable when
// the command cannot run as written.
type programRule func(args []string) string

const notRunnable = "not runnable as shown: "

func always(what string) programRule { return func([]string) string { return what } }

// subcommand allows a program's read-only subcommands (its first
// argument that is not an option) and says what the others change.
func subcommand(what string, readOnly ...string) programRule {
	return func(args []string) string {
		for _, a := range args {
			if strings.HasPrefix(a, "-") {
				if a == "--version" || a == "--help" || a == "-h" || a == "-V" {
					return ""
				}
				continue
			}
			if slices.Contains(readOnly, a) {
				return ""
			}
			return fmt.Sprintf("%s %s", what, a)
		}
		return ""
	}
}

// denyOptions allows a program unless one of the options is given (an
// option may be written --opt=value or -xyz with the letter among others).
func denyOptions(what string, opts ...string) programRule {
	return func(args []string) string {
		for _, a := range args {
			name, _, _ := strings.Cut(a, "=")
			for _, o := range opts {
				short := len(o) == 2 && o[0] == '-' && o[1] != '-'
				if name == o || strings.HasSuffix(o, "*") && strings.HasPrefix(name, strings.TrimSuffix(o, "*")) ||
					short && len(a) > 2 && a[0] == '-' && a[1] != '-' && strings.ContainsRune(a[1:], rune(o[1])) {
					return what + " (" + a + ")"
				}
			}
		}
		return ""
	}
}

// onlyWith allows a program only with one of the options given, the rest
// of its uses being what it changes.
func onlyWith(what string, opts ...string) programRule {
	return func(args []string) string {
		for _, a := range args {
			if slices.Contains(opts, a) {
				return ""
			}
		}
		return what
	}
}

// programs are the programs a diagnostic may run, each with what it
// changes when given the wrong arguments. A program missing here is
// unknown: a diagnostic must be runnable as shown on a Debian host.
var programs = map[string]programRule{
	// looking at files, processes, memory, sockets
	"cat": nil, "ls": nil, "head": nil, "tail": nil, "wc": nil, "stat": nil, "df": nil, "du": nil,
	"date": nil, "id": nil, "namei": nil, "readlink": nil, "realpath": nil, "file": nil,
	"free": nil, "uptime": nil, "vmstat": nil, "iostat": nil, "mpstat": nil, "pidstat": nil,
	"top": nil, "htop": nil, "ps": nil, "pgrep": nil, "pidof": nil, "pstree": nil, "lsof": nil,
	"ss": nil, "netstat": nil, "getent": nil, "hostname": nil, "uname": nil, "nproc": nil,
	"lscpu": nil, "lsblk": nil, "findmnt": nil, "getfacl": nil, "which": nil, "strace": nil,
	"grep": nil, "egrep": nil, "fgrep": nil, "zgrep": nil, "zcat": nil, "less": nil, "sort": nil,
	"uniq": nil, "cut": nil, "awk": nil, "tr": nil, "diff": nil, "cmp": nil, "echo": nil,
	"printf": nil, "test": nil, "jq": nil, "openssl": nil, "nslookup": nil, "dig": nil,
	"ping": nil, "nc": nil, "coredumpctl": nil,
	"sed":     denyOptions("edits files in place", "-i", "--in-place*"),
	"find":    denyOptions("deletes or runs commands on what it finds", "-delete", "-exec", "-execdir", "-ok", "-okdir", "-fprint*", "-fls"),
	"prlimit": func(args []string) string { return anyArg(args, "=", "sets a limit") },
	"fuser":   denyOptions("kills the processes it finds", "-k", "--kill"),
	"crontab": onlyWith("edits or removes a crontab", "-l"),
	"dmesg": denyOptions("clears the kernel ring buffer or changes the console level",
		"-c", "-C", "--clear", "--read-clear", "-n", "--console-level", "-D", "--console-off", "-E", "--console-on"),
	"journalctl": denyOptions("removes or moves journal files",
		"--vacuum-size", "--vacuum-time", "--vacuum-files", "--rotate", "--flush", "--sync",
		"--relinquish-var", "--smart-relinquish-var", "--setup-keys", "--update-catalog"),
	"sysctl": func(args []string) string {
		if r := denyOptions("sets kernel parameters", "-w", "--write", "-p", "--load", "--system")(args); r != "" {
			return r
		}
		return anyArg(args, "=", "sets a kernel parameter")
	},
	"curl": func(args []string) string {
		for i, a := range args {
			if (a == "-X" || a == "--request") && i+1 < len(args) && !slices.Contains([]string{"GET", "HEAD"}, args[i+1]) {
				return "sends a " + args[i+1] + " request"
			}
		}
		return denyOptions("sends data or writes a file", "-d", "--data*", "-F", "--form*", "-T", "--upload-file", "-o", "--output", "-O", "--remote-name*")(args)
	},
	"ip": func(args []string) string {
		var words []string
		for _, a := range args {
			if !strings.HasPrefix(a, "-") {
				words = append(words, a)
			}
		}
		if len(words) >= 2 && slices.Contains([]string{"add", "del", "delete", "set", "change", "replace", "flush", "append", "prepend"}, words[1]) {
			return "changes the network configuration (ip " + words[0] + " " + words[1] + ")"
		}
		return ""
	},
	// services and packages: only what shows
	"systemctl": subcommand("changes a unit's state:", "status", "show", "cat", "is-active", "is-failed",
		"is-enabled", "is-system-running", "list-units", "list-unit-files", "list-sockets", "list-timers",
		"list-dependencies", "help"),
	"service": func(args []string) string {
		if len(args) >= 2 && args[1] == "status" || len(args) == 1 && args[0] == "--status-all" {
			return ""
		}
		return "changes a service's state"
	},
	"supervisorctl": subcommand("changes a program's state:", "status", "tail", "avail", "pid", "version", "help"),
	"docker":        subcommand("changes containers:", "ps", "logs", "inspect", "stats", "top", "info", "version", "images", "events"),
	"podman":        subcommand("changes containers:", "ps", "logs", "inspect", "stats", "top", "info", "version", "images", "events"),
	"kubectl":       subcommand("changes the cluster:", "get", "describe", "logs", "top", "explain", "version", "events"),
	"apt":           subcommand("changes packages:", "list", "show", "policy", "search"),
	"apt-get":       subcommand("changes packages:", "check", "changelog"),
	"apt-cache":     nil,
	"dpkg":          onlyWith("changes packages", "-l", "-s", "-L", "-S", "-p", "--list", "--status", "--listfiles", "--search", "--print-avail", "--version"),
	"pip":           pipRule,
	"pip3":          pipRule,
	"python3":       pythonRule,
	"python":        pythonRule,
	// the servers themselves: only their checks
	"nginx": onlyWith("starts nginx or signals it (only -t, -T, -V, -v and -h only look)", "-t", "-T", "-V", "-v", "-h", "-?"),
	"gunicorn": onlyWith("starts a Gunicorn server (taking over a unix socket that exists at its --bind path); "+
		"--check-config imports the app and exits", "--check-config", "--print-config", "--version", "-v", "--help", "-h"),
	"py-spy": func(args []string) string {
		if r := subcommand("records to a file:", "dump", "top")(args); r != "" {
			return r
		}
		if slices.ContainsFunc(args, func(a string) bool { return !strings.HasPrefix(a, "-") }) || slices.Contains(args, "--version") {
			return ""
		}
		return notRunnable + "py-spy needs a subcommand and a pid (py-spy dump --pid N)"
	},
	"sigtail": subcommand("runs the daemon:", "scan", "test", "lint", "catalog", "version", "help"),
	// what changes the system whatever its arguments
	"kill": always("sends a signal"), "pkill": always("sends a signal"), "killall": always("sends a signal"),
	"rm": always("removes files"), "rmdir": always("removes directories"), "truncate": always("truncates files"),
	"mv": always("moves files"), "cp": always("writes files"), "install": always("writes files"),
	"ln": always("creates links"), "touch": always("writes files"), "mkdir": always("creates directories"),
	"chmod": always("changes permissions"), "chown": always("changes owners"), "chgrp": always("changes owners"),
	"dd": always("writes files"), "tee": always("writes files"), "wget": always("downloads to a file"),
	"patch": always("edits files"), "renice": always("changes priorities"), "shutdown": always("stops the host"),
	"reboot": always("restarts the host"), "halt": always("stops the host"), "poweroff": always("stops the host"),
	"mount": always("mounts file systems"), "umount": always("unmounts file systems"),
	"swapon": always("changes swap"), "swapoff": always("changes swap"), "systemd-run": always("starts a unit"),
	"useradd": always("changes users"), "usermod": always("changes users"), "vi": always("edits files"),
	"vim": always("edits files"), "nano": always("edits files"), "editor": always("edits files"),
}

var pipRule = subcommand("changes the Python environment:", "show", "list", "freeze", "check", "debug", "inspect", "config")

// pythonRule: python3 -c CODE and python3 -m MODULE are read-only as far
// as the lint can tell, except -m pip with a subcommand that installs; a
// script file is unknown.
func pythonRule(args []string) string {
	for i, a := range args {
		switch a {
		case "-c", "-V", "--version":
			return ""
		case "-m":
			if i+1 < len(args) && args[i+1] == "pip" {
				return pipRule(args[i+2:])
			}
			return ""
		}
	}
	return "runs a script"
}

func anyArg(args []string, sub, what string) string {
	for _, a := range args {
		if !strings.HasPrefix(a, "-") && strings.Contains(a, sub) {
			return what + " (" + a + ")"
		}
	}
	return ""
}

var (
	// handPlaceholderRE: a word that stands for something to fill in by
	// hand (PID, APP_MODULE): not runnable as shown.
	handPlaceholderRE = regexp.MustCompile(`^[A-Z][A-Z0-9_]{2,}$`)
	// proseWordRE: a first word that starts a sentence, not a program.
	proseWordRE = regexp.MustCompile(`^[A-Z][a-z]+[,:.]?$|[,:.]$`)
	programRE   = regexp.MustCompile(`^(?:/[\w.+-]+)*/?[a-z0-9][\w.+-]*$`)
)

// DiagnosticProblems says what keeps a command line from being a diagnostic:
// a read-only command runnable as shown on a Debian host. It is nil when
// nothing does.
func DiagnosticProblems(cmd string) []string { return commandProblems(cmd) }

// commandProblems says what keeps a diagnostic from being a read-only
// command runnable as shown; nil when nothing does.
func commandProblems(cmd string) []string {
	t := strings.TrimSpace(cmd)
	switch {
	case t == "":
		return []string{"not a command: empty"}
	case t[0] == '-':
		return []string{fmt.Sprintf("not a command: %q is a bare option; name the program it belongs to, or recommend it as a parameter", firstWord(t))}
	case t[0] == '$' || t[0] == '#' || t[0] == '>':
		return []string{fmt.Sprintf("not a command: it starts with %q (a shell prompt or a variable); write the command itself", t[:1])}
	}
	return lineProblems(t, true)
}

func lineProblems(t string, top bool) []string {
	var out []string
	l := parseShell(t)
	if l.err != "" {
		out = append(out, "not a command: "+l.err)
	}
	for i, st := range l.stages {
		prog, args := program(st)
		if i == 0 && top && len(st) > 0 && proseWordRE.MatchString(st[0].text) {
			return append(out, fmt.Sprintf("not a command: it reads as prose (%q); write the command line itself", st[0].text))
		}
		if prog == "" {
			out = append(out, "not a command: nothing to run")
			continue
		}
		if !programRE.MatchString(prog) {
			out = append(out, fmt.Sprintf("not a command: %q is not a program name", prog))
			continue
		}
		rule, known := programs[prog]
		if !known {
			out = append(out, fmt.Sprintf("unknown program %q: a diagnostic runs a program a Debian host has "+
				"(ss, journalctl, dmesg, grep, ps, systemctl status, curl, nginx -T, gunicorn --check-config, sigtail...)", prog))
			continue
		}
		texts := make([]string, len(args))
		for k, a := range args {
			texts[k] = a.text
			if !a.quoted && handPlaceholderRE.MatchString(a.text) && !httpMethods[a.text] {
				out = append(out, fmt.Sprintf("not runnable as shown: %q stands for something to fill in; write {name} for a captured value, or a command that finds it", a.text))
			}
		}
		if rule != nil {
			switch what := rule(texts); {
			case strings.HasPrefix(what, notRunnable):
				out = append(out, what)
			case what != "":
				out = append(out, fmt.Sprintf("changes the system: %s %s", prog, what))
			}
		}
	}
	for _, r := range l.redirects {
		if r != "/dev/null" && r != "&1" && r != "&2" && r != "&-" {
			out = append(out, fmt.Sprintf("changes the system: writes the file %q (>)", r))
		}
	}
	for _, name := range l.handPHs {
		out = append(out, fmt.Sprintf("not runnable as shown: <%s> is a placeholder to fill in by hand; write {%s} for a captured value, or a command that finds it", name, name))
	}
	for _, v := range l.vars {
		out = append(out, fmt.Sprintf("not runnable as shown: the shell variable %s is not set on the host; write {name} for a captured value, or the value itself", v))
	}
	for _, name := range l.quotedPHs {
		out = append(out, fmt.Sprintf("{%s} is inside quotes: a filled value is quoted for the shell on its own, so write it outside quotes", name))
	}
	for _, sub := range l.subs {
		out = append(out, lineProblems(sub, false)...)
	}
	return out
}

var httpMethods = map[string]bool{"GET": true, "HEAD": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "OPTIONS": true}

var handPlaceholderLT = regexp.MustCompile(`^<([a-z_][a-z0-9_]*)>`)

// changesSystem says what a command line changes on the system ("" when it
// only looks, or when it is not a command the lint knows).
func changesSystem(cmd string) string {
	for _, p := range lineProblems(strings.TrimSpace(cmd), false) {
		if what, ok := strings.CutPrefix(p, "changes the system: "); ok {
			return what
		}
	}
	return ""
}

func firstWord(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return f[0]
}
