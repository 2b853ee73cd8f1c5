package catalog

import (
	"fmt"
	"regexp"
	"strings"
)

// The parameters a rule recommends are settings of the programs sigtail
// watches, spelled as those programs spell them, so that a person can copy
// the name into gunicorn.conf.py, the gunicorn command line, nginx.conf, a
// systemd unit or sysctl.conf. The same setting may be spelled two ways
// (workers, --workers, -w); it has one recommended value in a catalog.

// Setting is a configuration parameter the catalog knows.
type Setting struct {
	// Key names the setting whatever its spelling: "gunicorn workers",
	// "nginx proxy_read_timeout", "systemd LimitNOFILE", "sysctl
	// net.core.somaxconn".
	Key string
	// Kind is what its value is: "bool" (True or False), "int", or ""
	// (anything the program reads).
	Kind string
	// Flag says the name is a command-line option; Valueless that the
	// option takes no value (a Gunicorn boolean).
	Flag, Valueless bool
}

// gunicornSettings are Gunicorn's settings by their gunicorn.conf.py name,
// with their command-line options and the kind of their value (from
// gunicorn/config.py).
var gunicornSettings = []struct {
	name, kind string
	flags      []string
}{
	{"config", "", []string{"-c", "--config"}},
	{"wsgi_app", "", nil},
	{"bind", "", []string{"-b", "--bind"}},
	{"backlog", "int", []string{"--backlog"}},
	{"workers", "int", []string{"-w", "--workers"}},
	{"worker_class", "", []string{"-k", "--worker-class"}},
	{"threads", "int", []string{"--threads"}},
	{"worker_connections", "int", []string{"--worker-connections"}},
	{"max_requests", "int", []string{"--max-requests"}},
	{"max_requests_jitter", "int", []string{"--max-requests-jitter"}},
	{"timeout", "int", []string{"-t", "--timeout"}},
	{"graceful_timeout", "int", []string{"--graceful-timeout"}},
	{"keepalive", "int", []string{"--keep-alive"}},
	{"limit_request_line", "int", []string{"--limit-request-line"}},
	{"limit_request_fields", "int", []string{"--limit-request-fields"}},
	{"limit_request_field_size", "int", []string{"--limit-request-field_size"}},
	{"reload", "bool", []string{"--reload"}},
	{"spew", "bool", []string{"--spew"}},
	{"check_config", "bool", []string{"--check-config"}},
	{"print_config", "bool", []string{"--print-config"}},
	{"preload_app", "bool", []string{"--preload"}},
	{"sendfile", "bool", []string{"--no-sendfile"}},
	{"reuse_port", "bool", []string{"--reuse-port"}},
	{"chdir", "", []string{"--chdir"}},
	{"daemon", "bool", []string{"-D", "--daemon"}},
	{"raw_env", "", []string{"-e", "--env"}},
	{"pidfile", "", []string{"-p", "--pid"}},
	{"worker_tmp_dir", "", []string{"--worker-tmp-dir"}},
	{"user", "", []string{"-u", "--user"}},
	{"group", "", []string{"-g", "--group"}},
	{"umask", "", []string{"-m", "--umask"}},
	{"initgroups", "bool", []string{"--initgroups"}},
	{"forwarded_allow_ips", "", []string{"--forwarded-allow-ips"}},
	{"accesslog", "", []string{"--access-logfile"}},
	{"access_log_format", "", []string{"--access-logformat"}},
	{"errorlog", "", []string{"--error-logfile", "--log-file"}},
	{"loglevel", "", []string{"--log-level"}},
	{"capture_output", "bool", []string{"--capture-output"}},
	{"logconfig", "", []string{"--log-config"}},
	{"syslog", "bool", []string{"--log-syslog"}},
	{"enable_stdio_inheritance", "bool", []string{"-R", "--enable-stdio-inheritance"}},
	{"statsd_host", "", []string{"--statsd-host"}},
	{"statsd_prefix", "", []string{"--statsd-prefix"}},
	{"enable_backlog_metric", "bool", []string{"--enable-backlog-metric"}},
	{"proc_name", "", []string{"-n", "--name"}},
	{"pythonpath", "", []string{"--pythonpath"}},
	{"proxy_protocol", "", []string{"--proxy-protocol"}},
}

// nginxDirectives are the nginx directives the catalog may recommend.
var nginxDirectives = []string{
	"worker_processes", "worker_connections", "worker_rlimit_nofile", "multi_accept",
	"proxy_pass", "proxy_read_timeout", "proxy_connect_timeout", "proxy_send_timeout",
	"proxy_buffer_size", "proxy_buffers", "proxy_busy_buffers_size", "proxy_buffering",
	"proxy_next_upstream", "proxy_next_upstream_tries", "proxy_next_upstream_timeout",
	"proxy_http_version", "proxy_set_header", "client_max_body_size", "client_body_timeout",
	"client_header_timeout", "send_timeout", "keepalive_timeout", "keepalive", "keepalive_requests",
	"upstream", "server", "listen", "access_log", "error_log", "log_format", "max_fails", "fail_timeout",
}

// systemdSettings are the unit settings the catalog may recommend.
var systemdSettings = []string{
	"LimitNOFILE", "LimitAS", "LimitNPROC", "MemoryMax", "MemoryHigh", "TasksMax", "Restart",
	"RestartSec", "KillMode", "TimeoutStopSec", "TimeoutStartSec", "RuntimeDirectory", "User",
	"Group", "WorkingDirectory", "Environment", "EnvironmentFile", "ExecStart", "ExecReload",
}

var settings = func() map[string]Setting {
	m := map[string]Setting{}
	for _, g := range gunicornSettings {
		key := "gunicorn " + g.name
		m[g.name] = Setting{Key: key, Kind: g.kind}
		for _, f := range g.flags {
			m[f] = Setting{Key: key, Kind: g.kind, Flag: true, Valueless: g.kind == "bool"}
		}
	}
	for _, d := range nginxDirectives {
		m[d] = Setting{Key: "nginx " + d}
	}
	for _, d := range systemdSettings {
		m[d] = Setting{Key: "systemd " + d}
	}
	return m
}()

// sysctlRE: a kernel parameter as sysctl names it.
var sysctlRE = regexp.MustCompile(`^(?:net|vm|kernel|fs)(?:\.[a-z0-9_]+)+$`)

// LookupSetting returns the setting a parameter name spells.
func LookupSetting(name string) (Setting, bool) {
	if s, ok := settings[name]; ok {
		return s, true
	}
	if sysctlRE.MatchString(name) {
		return Setting{Key: "sysctl " + name}, true
	}
	return Setting{}, false
}

// respell suggests how Gunicorn spells a name it does not know
// (worker-class, max-requests, --preload_app): its gunicorn.conf.py name
// and its command-line option; "" when the name is no Gunicorn setting.
func respell(name string) string {
	n := strings.ReplaceAll(strings.TrimLeft(name, "-"), "-", "_")
	for _, g := range gunicornSettings {
		if n == g.name || len(g.flags) > 0 && n == strings.ReplaceAll(strings.TrimLeft(g.flags[len(g.flags)-1], "-"), "-", "_") {
			if len(g.flags) == 0 {
				return g.name + " (gunicorn.conf.py)"
			}
			return fmt.Sprintf("%s (gunicorn.conf.py) or %s (command line)", g.name, g.flags[len(g.flags)-1])
		}
	}
	return ""
}

var (
	intValueRE = regexp.MustCompile(`^\d+$`)
	// a Python expression of a gunicorn.conf.py value computed at start,
	// as Gunicorn's own example writes workers:
	// multiprocessing.cpu_count() * 2 + 1
	intExprRE = regexp.MustCompile(`^[a-z_][\w.]*\(\)(?:\s*[*+]\s*\d+)*$`)
)

// valueProblem says what is wrong with a parameter's value; "" if nothing.
func valueProblem(name, value string, s Setting) string {
	v := strings.TrimSpace(value)
	switch {
	case s.Valueless:
		return fmt.Sprintf("%s takes no value on the command line: recommend %s with the value True instead",
			name, strings.TrimPrefix(s.Key, "gunicorn "))
	case v == "":
		return "no value: a parameter is recommended with the one value to set"
	case strings.HasPrefix(s.Key, "gunicorn ") && (strings.EqualFold(v, "enabled") || strings.EqualFold(v, "disabled")):
		return fmt.Sprintf("%q is not a value Gunicorn reads for %s", v, name)
	case s.Kind == "bool" && v != "True" && v != "False":
		return fmt.Sprintf("%q: %s takes True or False", v, name)
	case s.Kind == "int" && !intValueRE.MatchString(v) && !intExprRE.MatchString(v):
		return fmt.Sprintf("%q is not a number: %s takes one value (say why in why, not in the value)", v, name)
	}
	return ""
}
