package probe

import (
	"fmt"
	"sort"
	"strings"
)

// This file reads Gunicorn's command line (and GUNICORN_CMD_ARGS, which
// Gunicorn parses with the same parser) as argparse does: long options by
// exact name or unique prefix, `--x=v` and `--x v`, short options as
// `-w 4`, `-w4` and `-w=4`, short flags clustered (`-Dw 4`), `--` ending
// options, the last value winning and --bind appending.

type optKind int

const (
	optValue  optKind = iota // takes one argument
	optFlag                  // store_true / store_const: no argument
	optAppend                // takes one argument, repeatable (--bind)
)

type option struct {
	setting string
	kind    optKind
}

// gunicornOptions is every command-line option of Gunicorn 20.1 (the
// Debian package this was checked against, gunicorn/config.py), plus the
// flags newer releases added, so an option's argument is never mistaken
// for the app. Read-only.
var gunicornOptions = map[string]option{
	"--access-logformat":                   {"access_log_format", optValue},
	"--access-logfile":                     {"accesslog", optValue},
	"--backlog":                            {"backlog", optValue},
	"-b":                                   {"bind", optAppend},
	"--bind":                               {"bind", optAppend},
	"--ca-certs":                           {"ca_certs", optValue},
	"--capture-output":                     {"capture_output", optFlag},
	"--cert-reqs":                          {"cert_reqs", optValue},
	"--certfile":                           {"certfile", optValue},
	"--chdir":                              {"chdir", optValue},
	"--check-config":                       {"check_config", optFlag},
	"--ciphers":                            {"ciphers", optValue},
	"-c":                                   {"config", optValue},
	"--config":                             {"config", optValue},
	"-D":                                   {"daemon", optFlag},
	"--daemon":                             {"daemon", optFlag},
	"--disable-redirect-access-to-syslog":  {"disable_redirect_access_to_syslog", optFlag},
	"--do-handshake-on-connect":            {"do_handshake_on_connect", optFlag},
	"--dogstatsd-tags":                     {"dogstatsd_tags", optValue},
	"-R":                                   {"enable_stdio_inheritance", optFlag},
	"--enable-stdio-inheritance":           {"enable_stdio_inheritance", optFlag},
	"--error-logfile":                      {"errorlog", optValue},
	"--log-file":                           {"errorlog", optValue},
	"--forwarded-allow-ips":                {"forwarded_allow_ips", optValue},
	"--graceful-timeout":                   {"graceful_timeout", optValue},
	"-g":                                   {"group", optValue},
	"--group":                              {"group", optValue},
	"--initgroups":                         {"initgroups", optFlag},
	"--keep-alive":                         {"keepalive", optValue},
	"--keyfile":                            {"keyfile", optValue},
	"--limit-request-field_size":           {"limit_request_field_size", optValue},
	"--limit-request-fields":               {"limit_request_fields", optValue},
	"--limit-request-line":                 {"limit_request_line", optValue},
	"--log-config":                         {"logconfig", optValue},
	"--log-config-json":                    {"logconfig_json", optValue},
	"--logger-class":                       {"logger_class", optValue},
	"--log-level":                          {"loglevel", optValue},
	"--max-requests":                       {"max_requests", optValue},
	"--max-requests-jitter":                {"max_requests_jitter", optValue},
	"--paste":                              {"paste", optValue},
	"--paster":                             {"paste", optValue},
	"-p":                                   {"pidfile", optValue},
	"--pid":                                {"pidfile", optValue},
	"--preload":                            {"preload_app", optFlag},
	"--print-config":                       {"print_config", optFlag},
	"-n":                                   {"proc_name", optValue},
	"--name":                               {"proc_name", optValue},
	"--proxy-allow-from":                   {"proxy_allow_ips", optValue},
	"--proxy-protocol":                     {"proxy_protocol", optFlag},
	"--pythonpath":                         {"pythonpath", optValue},
	"-e":                                   {"raw_env", optAppend},
	"--env":                                {"raw_env", optAppend},
	"--paste-global":                       {"raw_paste_global_conf", optAppend},
	"--reload":                             {"reload", optFlag},
	"--reload-engine":                      {"reload_engine", optValue},
	"--reload-extra-file":                  {"reload_extra_files", optAppend},
	"--reuse-port":                         {"reuse_port", optFlag},
	"--no-sendfile":                        {"sendfile", optFlag},
	"--spew":                               {"spew", optFlag},
	"--ssl-version":                        {"ssl_version", optValue},
	"--statsd-host":                        {"statsd_host", optValue},
	"--statsd-prefix":                      {"statsd_prefix", optValue},
	"--strip-header-spaces":                {"strip_header_spaces", optFlag},
	"--suppress-ragged-eofs":               {"suppress_ragged_eofs", optFlag},
	"--log-syslog":                         {"syslog", optFlag},
	"--log-syslog-to":                      {"syslog_addr", optValue},
	"--log-syslog-facility":                {"syslog_facility", optValue},
	"--log-syslog-prefix":                  {"syslog_prefix", optValue},
	"--threads":                            {"threads", optValue},
	"-t":                                   {"timeout", optValue},
	"--timeout":                            {"timeout", optValue},
	"--tolerate-dangerous-framing":         {"tolerate_dangerous_framing", optFlag},
	"-m":                                   {"umask", optValue},
	"--umask":                              {"umask", optValue},
	"-u":                                   {"user", optValue},
	"--user":                               {"user", optValue},
	"-k":                                   {"worker_class", optValue},
	"--worker-class":                       {"worker_class", optValue},
	"--worker-connections":                 {"worker_connections", optValue},
	"--worker-tmp-dir":                     {"worker_tmp_dir", optValue},
	"-w":                                   {"workers", optValue},
	"--workers":                            {"workers", optValue},
	"--casefold-http-method":               {"casefold_http_method", optFlag},
	"--permit-unconventional-http-method":  {"permit_unconventional_http_method", optFlag},
	"--permit-unconventional-http-version": {"permit_unconventional_http_version", optFlag},
	"--permit-obsolete-folding":            {"permit_obsolete_folding", optFlag},
	"--header-map":                         {"header_map", optValue},
	"--forwarder-headers":                  {"forwarder_headers", optValue},
	"-v":                                   {"version", optFlag},
	"--version":                            {"version", optFlag},
}

// argValue is what the arguments said about one setting.
type argValue struct {
	value string   // the last one given (optValue), "True" for a flag
	list  []string // every one given (optAppend)
	flag  string   // as written: --workers
}

// parsedArgs is one argument list read as Gunicorn reads it.
type parsedArgs struct {
	values     map[string]argValue
	positional []string // the app ("app:app") and anything argparse leaves
	unknown    []string // options Gunicorn 20.1 does not have (a newer release's?)
	missing    []string // options given without their argument
}

func (p *parsedArgs) get(setting string) (argValue, bool) {
	v, ok := p.values[setting]
	return v, ok
}

// parseArgs reads args (the command line after the program, or
// GUNICORN_CMD_ARGS split as shlex does) as Gunicorn's argparse parser.
func parseArgs(args []string) *parsedArgs {
	p := &parsedArgs{values: map[string]argValue{}}
	set := func(o option, flag, v string) {
		cur := p.values[o.setting]
		cur.flag = flag
		switch o.kind {
		case optFlag:
			cur.value = "True"
		case optAppend:
			cur.list = append(cur.list, v)
			cur.value = v
		default:
			cur.value = v
		}
		p.values[o.setting] = cur
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			p.positional = append(p.positional, args[i+1:]...)
			return p
		case strings.HasPrefix(a, "--"):
			name, val, hasVal := strings.Cut(a, "=")
			o, full, ok := lookupLong(name)
			if !ok {
				p.unknown = append(p.unknown, name)
				continue
			}
			if o.kind == optFlag {
				set(o, full, "")
				continue
			}
			if !hasVal {
				if i+1 >= len(args) || looksLikeOption(args[i+1]) {
					p.missing = append(p.missing, full)
					continue
				}
				i++
				val = args[i]
			}
			set(o, full, val)
		case looksLikeOption(a):
			// A cluster of short options: -D, -w4, -w=4, -Dw 4.
			rest := a[1:]
			for rest != "" {
				flag := "-" + rest[:1]
				o, ok := gunicornOptions[flag]
				if !ok {
					p.unknown = append(p.unknown, flag)
					break
				}
				rest = rest[1:]
				if o.kind == optFlag {
					set(o, flag, "")
					continue
				}
				val := strings.TrimPrefix(rest, "=")
				if rest == "" {
					if i+1 >= len(args) || looksLikeOption(args[i+1]) {
						p.missing = append(p.missing, flag)
						break
					}
					i++
					val = args[i]
				}
				set(o, flag, val)
				break
			}
		default:
			p.positional = append(p.positional, a)
		}
	}
	return p
}

// lookupLong finds a long option by its name or, as argparse allows, a
// prefix of exactly one option's name.
func lookupLong(name string) (option, string, bool) {
	if o, ok := gunicornOptions[name]; ok {
		return o, name, true
	}
	var found []string
	for k := range gunicornOptions {
		if strings.HasPrefix(k, "--") && strings.HasPrefix(k, name) {
			found = append(found, k)
		}
	}
	sort.Strings(found)
	// Aliases of one setting (--paste, --paster) are one match.
	if len(found) > 0 {
		s := gunicornOptions[found[0]].setting
		for _, f := range found[1:] {
			if gunicornOptions[f].setting != s {
				return option{}, "", false
			}
		}
		return gunicornOptions[found[0]], found[0], true
	}
	return option{}, "", false
}

// looksLikeOption is argparse's test: a dash and something that is not a
// negative number.
func looksLikeOption(a string) bool {
	if len(a) < 2 || a[0] != '-' {
		return false
	}
	if c := a[1]; c >= '0' && c <= '9' || c == '.' {
		return false
	}
	return true
}

// shlexSplit splits GUNICORN_CMD_ARGS as Python's shlex.split does (POSIX
// mode): whitespace separates, single quotes keep everything, double quotes
// keep everything but backslash escapes of \ " $ `, a backslash outside
// quotes escapes the next character.
func shlexSplit(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("GUNICORN_CMD_ARGS %q: no closing quotation", s)
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\\\"$`", s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, fmt.Errorf("GUNICORN_CMD_ARGS %q: no closing quotation", s)
			}
			inWord = true
		case c == '\\':
			if i+1 < len(s) {
				i++
				cur.WriteByte(s[i])
			}
			inWord = true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out, nil
}
