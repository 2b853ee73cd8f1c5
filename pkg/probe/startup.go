package probe

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// This file reads what a master was started with: its command line (from
// discovery), its environment (GUNICORN_CMD_ARGS, WEB_CONCURRENCY, PORT)
// and the config file it loaded, and merges them into Settings.

// readStartup gathers a master's startup inputs. Problems are recorded in
// u; what is left unknown shows in the settings' caveats.
func (f files) readStartup(pid int, t *tree, u *unreadables) (startup, []string) {
	var st startup
	var notes []string
	if t.args != nil || t.kind == gunicornCmd {
		st.cmd = parseArgs(t.args)
		notes = append(notes, argNotes("command line", st.cmd)...)
	}
	envFile := fmt.Sprintf("proc/%d/environ", pid)
	if b, err := f.read(envFile); err == nil {
		st.env = parseEnviron(b)
		if a, ok := st.env["GUNICORN_CMD_ARGS"]; ok {
			words, err := shlexSplit(a)
			if err != nil {
				notes = append(notes, err.Error()+": Gunicorn would have refused to start with it")
			} else {
				st.envArgs = parseArgs(words)
				notes = append(notes, argNotes("GUNICORN_CMD_ARGS", st.envArgs)...)
			}
		}
	} else if !gone(err) {
		u.add(pid, envFile, err, "GUNICORN_CMD_ARGS, WEB_CONCURRENCY and PORT unknown")
	}

	// The config file: -c on the command line, else -c in
	// GUNICORN_CMD_ARGS, else ./gunicorn.conf.py if it exists (Gunicorn 20+).
	loc, explicit := "gunicorn.conf.py", false
	for _, a := range []*parsedArgs{st.cmd, st.envArgs} {
		if a == nil {
			continue
		}
		if v, ok := a.get("config"); ok {
			loc, explicit = v.value, true
			break
		}
	}
	switch {
	case strings.HasPrefix(loc, "python:"):
		st.configWhy = fmt.Sprintf("config module %s not read", loc)
		return st, notes
	case strings.HasPrefix(loc, "file:"):
		loc = strings.TrimPrefix(loc, "file:")
	}
	abs := loc
	if !path.IsAbs(loc) {
		cwdLink := fmt.Sprintf("proc/%d/cwd", pid)
		cwd, err := f.readlink(cwdLink)
		if err != nil {
			if !gone(err) {
				u.add(pid, cwdLink, err, "the config file "+loc+" in its working directory not read")
				st.configWhy = "working directory not readable, so ./" + path.Base(loc) + " not read"
				if explicit {
					st.configWhy = "config file " + loc + " not read (working directory not readable)"
				}
			}
			return st, notes
		}
		abs = path.Join(cwd, loc)
		if st.cmd != nil {
			if _, ok := st.cmd.get("chdir"); ok {
				notes = append(notes, "config file "+loc+" resolved against the working directory after --chdir; Gunicorn resolved it against the directory it started in")
			}
		}
	}
	// Through /proc/PID/root the file is read in the master's mount
	// namespace (a container's); that needs the same rights as environ,
	// so fall back to this namespace's copy of the path.
	inNS := fmt.Sprintf("proc/%d/root/%s", pid, rel(abs))
	b, err := f.read(inNS)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		if b2, err2 := f.read(rel(abs)); err2 == nil {
			notes = append(notes, fmt.Sprintf("config file %s read from this mount namespace (/%s: %s)", abs, inNS, errText(err)))
			b, err = b2, nil
		}
	}
	switch {
	case err == nil:
		cf := parseConfigFile(string(b), isConfigSetting)
		st.config = &cf
		st.configName = abs
		notes = append(notes, cf.notes...)
	case errors.Is(err, fs.ErrNotExist) && !explicit:
		// No ./gunicorn.conf.py: the defaults stand.
	case errors.Is(err, fs.ErrNotExist):
		notes = append(notes, fmt.Sprintf("config file %s no longer exists: the settings it gave at start are unknown", abs))
		st.configWhy = "config file " + abs + " gone"
	default:
		u.add(pid, inNS, err, "settings from "+abs+" unknown")
		st.configWhy = "config file " + abs + " not readable"
	}
	return st, notes
}

// isConfigSetting says which module-level names of a config file are
// settings this package reports (Gunicorn ignores names that are not
// settings at all).
func isConfigSetting(name string) bool { return isReportedSetting(name) && name != "config" }

// argNotes tells what in an argument list could not be read as Gunicorn's.
func argNotes(where string, a *parsedArgs) []string {
	var notes []string
	if len(a.unknown) > 0 {
		notes = append(notes, fmt.Sprintf("%s: options Gunicorn 20.1 does not have, ignored: %s", where, strings.Join(a.unknown, " ")))
	}
	if len(a.missing) > 0 {
		notes = append(notes, fmt.Sprintf("%s: options without their value: %s", where, strings.Join(a.missing, " ")))
	}
	return notes
}

// settingsOf merges a master's startup into its settings and records the
// config file actually read.
func settingsOf(st startup) Settings {
	ss := st.merge()
	c := Setting{Name: "config", Source: SourceDefault}
	switch {
	case st.config != nil:
		c.Value = st.configName
		if v, ok := st.cmd.getOK("config"); ok {
			c.Source, c.Where = SourceCommandLine, v.flag
		} else if v, ok := st.envArgs.getOK("config"); ok {
			c.Source, c.Where = SourceEnv, v.flag
		}
	case st.configWhy != "":
		c.Source, c.Unknown, c.Expr = SourceUnknown, true, st.configWhy
	case st.cmd == nil:
		c.Source, c.Unknown, c.Expr = SourceUnknown, true, "a -c on the command line hidden by setproctitle would not be seen"
	}
	ss["config"] = c
	return ss
}

// getOK is get on a possibly absent argument list.
func (p *parsedArgs) getOK(setting string) (argValue, bool) {
	if p == nil {
		return argValue{}, false
	}
	return p.get(setting)
}
