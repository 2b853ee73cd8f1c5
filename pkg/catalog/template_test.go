package catalog

import (
	"strings"
	"testing"
)

func TestFill(t *testing.T) {
	vals := func(name string) []string {
		return map[string][]string{
			"pid":     {"12", "13"},
			"module":  {"dotenv"},
			"request": {"/api/x?y=1&z='2'"},
			"count":   {"3"},
			"empty":   {""},
		}[name]
	}
	for _, tt := range []struct{ fill, tmpl, want string }{
		{"summary", "workers {pid} ({count} times)", "workers 12, 13 (3 times)"},
		{"summary", "cannot import {module}: {missing}", "cannot import dotenv: ?"},
		{"summary", "no {Name} nor {two words} nor {", "no {Name} nor {two words} nor {"},
		{"command", "journalctl _PID={pid}", "journalctl _PID=12"},
		{"command", "pip show {module}", "pip show dotenv"},
		{"command", "grep -F {request} /var/log/nginx/access.log", `grep -F '/api/x?y=1&z='\''2'\''' /var/log/nginx/access.log`},
		{"command", "ss -xlp | grep {socket}", "ss -xlp | grep <socket>"},
		{"command", "coredumpctl info {empty}", "coredumpctl info <empty>"},
	} {
		got := FillSummary(tt.tmpl, vals)
		if tt.fill == "command" {
			got = FillCommand(tt.tmpl, vals)
		}
		if got != tt.want {
			t.Errorf("Fill%s(%q) = %q, want %q", tt.fill, tt.tmpl, got, tt.want)
		}
	}
}

func TestCommandProblems(t *testing.T) {
	for _, tt := range []struct {
		cmd  string
		want string // a part of the only problem; "" for none
	}{
		{"dmesg -T | grep -Ei 'oom'", ""},
		{"py-spy dump --subprocesses --pid $(systemctl show -p MainPID --value gunicorn)", ""},
		{`journalctl -u gunicorn --since "1 hour ago" --grep "oom|Killed process" --no-pager`, ""},
		{"sudo -u www-data curl --unix-socket /run/gunicorn.sock http://localhost/", ""},
		{"time curl -sS --unix-socket /run/gunicorn.sock http://localhost/healthz 2>&1", ""},
		{"gunicorn --check-config wsgi:app", ""},
		{"nginx -T | grep -E 'worker_(connections|rlimit_nofile)'", ""},
		{"ps -o pid,etime,rss,pcpu,args --ppid $(systemctl show -p MainPID --value gunicorn)", ""},
		{"-w 4", "bare option"},
		{"$ free -m", "shell prompt"},
		{"Look at the error log.", "prose"},
		{"pkill gunicorn", "changes the system: pkill"},
		{"kill -HUP 1234", "changes the system: kill"},
		{"systemctl reload gunicorn", "changes the system: systemctl"},
		{"pip install gevent", "changes the system: pip"},
		{"python3 -m pip install gevent", "changes the system: python3"},
		{"apt-get install gunicorn", "changes the system: apt-get"},
		{"rm -f /run/gunicorn.sock", "changes the system: rm"},
		{"truncate -s 0 /var/log/gunicorn/error.log", "changes the system: truncate"},
		{"sed -i s/30/60/ /etc/gunicorn.conf.py", "changes the system: sed"},
		{"journalctl --vacuum-size=100M", "changes the system: journalctl"},
		{"dmesg -c", "changes the system: dmesg"},
		{"curl -X POST http://localhost/reset", "changes the system: curl"},
		{"nginx -s reload", "changes the system: nginx"},
		{"gunicorn --bind unix:/run/gunicorn.sock wsgi:app", "changes the system: gunicorn"},
		{"cat /etc/nginx/nginx.conf | tee /tmp/x", "changes the system: tee"},
		{"echo 1 > /proc/sys/vm/drop_caches", "writes the file"},
		{"systemctl status $(pkill gunicorn)", "changes the system: pkill"},
		{"py-spy --subprocesses", "py-spy needs a subcommand"},
		{"py-spy dump --pid PID", `"PID" stands for something`},
		{"journalctl _PID=<pid>", "<pid> is a placeholder"},
		{"gunicorn --check-config $APP_MODULE", "shell variable $APP_MODULE"},
		{"grep \"{pid}\" /var/log/gunicorn/error.log", "{pid} is inside quotes"},
		{"grep 'unclosed", "' is not closed"},
		{"frobnicate", "unknown program"},
	} {
		got := commandProblems(tt.cmd)
		switch {
		case tt.want == "" && len(got) > 0:
			t.Errorf("%q: %q, want no problem", tt.cmd, got)
		case tt.want != "" && (len(got) != 1 || !strings.Contains(got[0], tt.want)):
			t.Errorf("%q: %q, want one problem with %q", tt.cmd, got, tt.want)
		}
	}
}
