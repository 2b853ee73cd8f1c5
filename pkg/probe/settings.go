package probe

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// This file merges what a master was started with into its effective
// settings, in Gunicorn's order (gunicorn/app/base.py, load_config): the
// defaults, then the config file, then GUNICORN_CMD_ARGS, then the command
// line, each overriding the one before.

// Source says where a setting's value came from.
type Source string

const (
	SourceDefault        Source = "default"
	SourceWebConcurrency Source = "WEB_CONCURRENCY" // the default of workers when set
	SourceConfigFile     Source = "config file"
	SourceEnv            Source = "GUNICORN_CMD_ARGS"
	SourceCommandLine    Source = "command line"
	SourceUnknown        Source = "unknown" // nothing seen says where it comes from
)

// Setting is one effective setting of a master.
type Setting struct {
	Name   string   `json:"name"`
	Value  string   `json:"value,omitempty"` // as Gunicorn would hold it: "4", "sync", "True"
	List   []string `json:"list,omitempty"`  // bind: every address
	Source Source   `json:"source"`
	// Where is the flag or file line that set it: "-w", "gunicorn.conf.py:3".
	Where string `json:"where,omitempty"`
	// Unknown says the value cannot be known: Expr says why, or is the
	// expression that sets it when only running the config file would tell
	// ("multiprocessing.cpu_count() * 2 + 1").
	Unknown bool   `json:"unknown,omitempty"`
	Expr    string `json:"expr,omitempty"`
	// Caveat says what could still change the value unseen: a
	// GUNICORN_CMD_ARGS that could not be read, a command line hidden by
	// setproctitle.
	Caveat string `json:"caveat,omitempty"`
}

// Known says whether the value is known.
func (s Setting) Known() bool { return !s.Unknown }

// Int is the value as an integer, when known and one.
func (s Setting) Int() (int, bool) {
	if !s.Known() {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(s.Value))
	return n, err == nil
}

// Bool is the value as Gunicorn's validate_bool reads it.
func (s Setting) Bool() (bool, bool) {
	if !s.Known() {
		return false, false
	}
	switch strings.ToLower(strings.TrimSpace(s.Value)) {
	case "true", "1", "yes", "y", "on":
		return true, true
	case "false", "0", "no", "n", "off", "", "none":
		return false, true
	}
	return false, false
}

// String is "4 (command line -w)", or "unknown: EXPR (config file
// gunicorn.conf.py:6)", with any caveat in brackets.
func (s Setting) String() string {
	v := s.ValueString()
	if src := s.Origin(); src != "" {
		v += " (" + src + ")"
	}
	if s.Caveat != "" {
		v += " [" + s.Caveat + "]"
	}
	return v
}

// ValueString is the value alone: "4", "None", "unknown: EXPR".
func (s Setting) ValueString() string {
	switch {
	case !s.Known() && s.Expr != "":
		return "unknown: " + s.Expr
	case !s.Known():
		return "unknown"
	case s.List != nil:
		return strings.Join(s.List, ",")
	case s.Value == "":
		return "None"
	}
	return s.Value
}

// Origin is the source and where in it: "command line -w"; empty when
// unknown.
func (s Setting) Origin() string {
	if s.Source == SourceUnknown {
		return ""
	}
	if s.Where != "" {
		return string(s.Source) + " " + s.Where
	}
	return string(s.Source)
}

// Settings are a master's effective settings by Gunicorn's name
// (workers, worker_class, timeout...).
type Settings map[string]Setting

// Get returns the named setting; an unlisted one is unknown.
func (ss Settings) Get(name string) Setting {
	if s, ok := ss[name]; ok {
		return s
	}
	return Setting{Name: name, Source: SourceUnknown, Unknown: true}
}

// Names lists the settings in the order people read them.
func (ss Settings) Names() []string {
	order := map[string]int{}
	for i, d := range settingDefaults {
		order[d.name] = i
	}
	names := make([]string, 0, len(ss))
	for n := range ss {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return order[names[i]] < order[names[j]] })
	return names
}

// settingDefaults are the settings a Snapshot reports, with Gunicorn's
// defaults (gunicorn/config.py). A value of "None" means unset. Read-only.
var settingDefaults = []struct {
	name, def string
	list      bool
}{
	{name: "workers", def: "1"},
	{name: "worker_class", def: "sync"},
	{name: "threads", def: "1"},
	{name: "worker_connections", def: "1000"},
	{name: "timeout", def: "30"},
	{name: "graceful_timeout", def: "30"},
	{name: "keepalive", def: "2"},
	{name: "max_requests", def: "0"},
	{name: "max_requests_jitter", def: "0"},
	{name: "preload_app", def: "False"},
	{name: "bind", def: "127.0.0.1:8000", list: true},
	{name: "backlog", def: "2048"},
	{name: "errorlog", def: "-"},
	{name: "accesslog", def: "None"},
	{name: "loglevel", def: "info"},
	{name: "proc_name", def: "None"},
	{name: "chdir", def: "None"},
	{name: "config", def: "./gunicorn.conf.py"},
}

func isReportedSetting(name string) bool {
	for _, d := range settingDefaults {
		if d.name == name {
			return true
		}
	}
	return false
}

// startup is everything a master's settings are made of.
type startup struct {
	cmd        *parsedArgs       // nil when setproctitle hid the command line
	env        map[string]string // nil when environ could not be read
	envArgs    *parsedArgs       // GUNICORN_CMD_ARGS, when set
	config     *configFile       // nil when no config file was read
	configName string            // for Where: gunicorn.conf.py
	configWhy  string            // why no config file was read, when one may exist
}

// merge computes the effective settings.
func (st startup) merge() Settings {
	ss := Settings{}
	for _, d := range settingDefaults {
		s := Setting{Name: d.name, Value: d.def, Source: SourceDefault}
		if d.def == "None" {
			s.Value = ""
		}
		if d.list {
			s.List = []string{d.def}
		}
		switch {
		case d.name == "workers" && st.env != nil && st.env["WEB_CONCURRENCY"] != "":
			s.Value, s.Source = strings.TrimSpace(st.env["WEB_CONCURRENCY"]), SourceWebConcurrency
		case d.name == "bind" && st.env != nil && st.env["PORT"] != "":
			// Gunicorn's default bind when PORT is set (Heroku's convention).
			s.List = []string{"0.0.0.0:" + st.env["PORT"]}
			s.Value, s.Where = s.List[0], "PORT"
		}
		if st.config != nil {
			if v, ok := st.config.values[d.name]; ok {
				s = Setting{Name: d.name, Source: SourceConfigFile, Where: fmt.Sprintf("%s:%d", st.configName, v.line)}
				if v.literal {
					s.Value, s.List = v.value, v.list
					if d.list && s.List == nil {
						s.List = []string{v.value} // bind = "unix:/x" is a list of one
					}
				} else {
					s.Unknown, s.Expr = true, v.expr
				}
			}
		}
		if st.envArgs != nil {
			if v, ok := st.envArgs.get(d.name); ok {
				s = fromArg(d.name, v, SourceEnv, d.list)
			}
		}
		if st.cmd != nil {
			if v, ok := st.cmd.get(d.name); ok {
				s = fromArg(d.name, v, SourceCommandLine, d.list)
			}
		}
		s.Caveat = st.caveat(s)
		if st.cmd == nil && (s.Source == SourceDefault || s.Source == SourceWebConcurrency) {
			// The command line is the usual place for flags: with it
			// hidden, a default is a guess.
			s.Source, s.Unknown, s.Value, s.List = SourceUnknown, true, "", nil
		}
		ss[d.name] = s
	}
	return ss
}

// caveat says what could have overridden s without being seen.
func (st startup) caveat(s Setting) string {
	var c []string
	if st.cmd == nil && s.Source != SourceCommandLine {
		c = append(c, "command line hidden by setproctitle")
	}
	if st.env == nil && (s.Source == SourceConfigFile || s.Source == SourceDefault) {
		what := "GUNICORN_CMD_ARGS"
		if s.Name == "workers" && s.Source == SourceDefault {
			what += " and WEB_CONCURRENCY"
		}
		c = append(c, what+" not readable")
	}
	if st.config == nil && st.configWhy != "" && (s.Source == SourceDefault || s.Source == SourceWebConcurrency) {
		c = append(c, st.configWhy)
	}
	return strings.Join(c, "; ")
}

func fromArg(name string, v argValue, src Source, list bool) Setting {
	s := Setting{Name: name, Value: v.value, Source: src, Where: v.flag}
	if list {
		s.List = v.list
	}
	return s
}
