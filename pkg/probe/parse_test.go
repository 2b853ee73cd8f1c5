package probe

import (
	"net"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestParseStat(t *testing.T) {
	// A command name with a space and a parenthesis, as a process may set.
	line := "820 (gunicorn: w) ker) S 812 812 812 0 -1 4194560 100 0 0 0 5000 300 0 0 20 0 3 0 100100 100000000 20480 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
	st, err := parseStat([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	want := procStat{pid: 820, comm: "gunicorn: w) ker", state: 'S', ppid: 812, cpuTicks: 5300, startTicks: 100100, threads: 3}
	if st != want {
		t.Errorf("got %+v\nwant %+v", st, want)
	}
	for _, bad := range []string{"", "12 gunicorn S", "12 (x) S 1 2", "x (y) S 1 1 1 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 1 1 1"} {
		if _, err := parseStat([]byte(bad)); err == nil {
			t.Errorf("parseStat(%q): no error", bad)
		}
	}
}

func TestParseCmdline(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"gunicorn\x00-w\x004\x00app:app\x00", []string{"gunicorn", "-w", "4", "app:app"}},
		{"gunicorn: master [app]            \x00\x00\x00", []string{"gunicorn: master [app]"}},
		{"a\x00\x00b\x00", []string{"a", "", "b"}},
	}
	for _, tt := range tests {
		if got := parseCmdline([]byte(tt.in)); !slices.Equal(got, tt.want) {
			t.Errorf("parseCmdline(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseSmallFiles(t *testing.T) {
	st := parseStatus([]byte("Name:\tgunicorn\nUid:\t33\t33\t33\t33\nVmRSS:\t  204800 kB\nThreads:\t1\n"))
	if st.uid != 33 || st.rss != 200<<20 {
		t.Errorf("status: %+v", st)
	}
	if st := parseStatus([]byte("Name:\tkthreadd\nUid:\t0\t0\t0\t0\n")); st.rss != 0 || st.uid != 0 {
		t.Errorf("kernel thread status: %+v", st)
	}
	if pss, ok := parseSmapsRollup([]byte("55-7f ---p 0 0:0 0 [rollup]\nRss: 4016 kB\nPss:                1015 kB\nPss_Anon: 605 kB\n")); !ok || pss != 1015*1024 {
		t.Errorf("smaps_rollup Pss = %d, %v", pss, ok)
	}
	mi, err := parseMeminfo([]byte("MemTotal:       1015808 kB\nMemFree: 1 kB\nMemAvailable:     92160 kB\n"))
	if err != nil || mi.total != 1015808*1024 || mi.available != 92160*1024 {
		t.Errorf("meminfo: %+v %v", mi, err)
	}
	if _, err := parseMeminfo([]byte("MemFree: 1 kB\n")); err == nil {
		t.Error("meminfo without MemTotal: no error")
	}
	if bt, err := parseBootTime([]byte("cpu 1 2 3\nbtime 1764748800\n")); err != nil || bt != 1764748800 {
		t.Errorf("btime %d %v", bt, err)
	}
	env := parseEnviron([]byte("PATH=/bin\x00GUNICORN_CMD_ARGS=--timeout 90 --bind=a:1\x00EMPTY=\x00junk\x00"))
	if env["GUNICORN_CMD_ARGS"] != "--timeout 90 --bind=a:1" || env["PATH"] != "/bin" || len(env) != 3 {
		t.Errorf("environ: %q", env)
	}
}

func TestParseCPUList(t *testing.T) {
	for in, want := range map[string]int{"0": 1, "0-1\n": 2, "0-3,8,10-11": 7, " 2-2 ": 1} {
		if got, err := parseCPUList(in); err != nil || got != want {
			t.Errorf("parseCPUList(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "a", "3-1", "0-"} {
		if _, err := parseCPUList(bad); err == nil {
			t.Errorf("parseCPUList(%q): no error", bad)
		}
	}
}

func TestRecognize(t *testing.T) {
	tests := []struct {
		cmdline []string
		kind    kind
		args    string
	}{
		{[]string{"gunicorn", "-w", "4", "app:app"}, gunicornCmd, "-w 4 app:app"},
		{[]string{"/usr/bin/gunicorn3", "app:app"}, gunicornCmd, "app:app"},
		{[]string{"/srv/venv/bin/python3.11", "/srv/venv/bin/gunicorn", "--workers=3", "app:app"}, gunicornCmd, "--workers=3 app:app"},
		{[]string{"python3", "-u", "-X", "dev", "-m", "gunicorn", "-b", ":80", "app:app"}, gunicornCmd, "-b :80 app:app"},
		{[]string{"python", "-mgunicorn", "app:app"}, gunicornCmd, "app:app"},
		{[]string{"python3", "-m", "gunicorn.app.wsgiapp", "app:app"}, gunicornCmd, "app:app"},
		{[]string{"gunicorn"}, gunicornCmd, ""},
		{[]string{"gunicorn: master [shop]"}, titleMaster, ""},
		{[]string{"gunicorn: worker [shop]"}, titleWorker, ""},
		{[]string{"python3", "-m", "uvicorn", "app:app"}, notGunicorn, ""},
		{[]string{"python3", "-c", "import gunicorn"}, notGunicorn, ""},
		{[]string{"python3", "manage.py", "runserver"}, notGunicorn, ""},
		{[]string{"/usr/bin/vim", "gunicorn.conf.py"}, notGunicorn, ""},
		{[]string{"tail", "-f", "/var/log/gunicorn/error.log"}, notGunicorn, ""},
		{[]string{"gunicorn: arbiter"}, notGunicorn, ""},
		{nil, notGunicorn, ""},
	}
	for _, tt := range tests {
		k, args, _ := recognize(tt.cmdline)
		if k != tt.kind || strings.Join(args, " ") != tt.args {
			t.Errorf("recognize(%q) = %v %q, want %v %q", tt.cmdline, k, args, tt.kind, tt.args)
		}
	}
}

func TestDiscover(t *testing.T) {
	cmd := []string{"/venv/bin/python", "/venv/bin/gunicorn", "-w", "2", "app:app"}
	p := func(pid, ppid int, state byte, cl ...string) procEntry {
		return procEntry{procStat: procStat{pid: pid, ppid: ppid, state: state}, cmdline: cl}
	}
	procs := []procEntry{
		p(1, 0, 'S', "/sbin/init"),
		p(2, 0, 'S'), // a kernel thread
		p(10, 1, 'S', "sh", "-c", "exec gunicorn"),
		p(100, 10, 'S', cmd...),        // master under a shell
		p(101, 100, 'S', cmd...),       // worker
		p(102, 100, 'Z', cmd...),       // killed worker not reaped yet
		p(103, 100, 'S', cmd...),       // worker that forked
		p(104, 103, 'S', cmd...),       // its fork (multiprocessing, fork start method)
		p(105, 100, 'S', "sleep", "5"), // something the master started
		p(200, 100, 'S', cmd...),       // new master re-executed by USR2
		p(201, 200, 'S', cmd...),       // its worker
		p(300, 1, 'S', "gunicorn: master [b]"),
		p(301, 300, 'S', "gunicorn: worker [b]"),
		p(302, 300, 'S', "gunicorn: worker [b]"),
		p(400, 1, 'S', "gunicorn: worker [orphan]"), // its master died: not a master
	}
	reexeced := func(pid int) bool { return pid == 200 }
	got := discover(procs, reexeced)
	type summary struct {
		master  int
		workers []int
		others  []int
	}
	var sum []summary
	for _, tr := range got {
		s := summary{master: tr.master.pid}
		for _, w := range tr.workers {
			s.workers = append(s.workers, w.pid)
		}
		for _, o := range tr.others {
			s.others = append(s.others, o.pid)
		}
		sum = append(sum, s)
	}
	want := []summary{
		{master: 100, workers: []int{101, 103}, others: []int{104, 105}},
		{master: 200, workers: []int{201}},
		{master: 300, workers: []int{301, 302}},
	}
	if len(sum) != len(want) {
		t.Fatalf("got %+v\nwant %+v", sum, want)
	}
	for i := range want {
		if sum[i].master != want[i].master || !slices.Equal(sum[i].workers, want[i].workers) || !slices.Equal(sum[i].others, want[i].others) {
			t.Errorf("master %d: got %+v, want %+v", want[i].master, sum[i], want[i])
		}
	}
	// Without GUNICORN_FD, a worker's child with the same command line is
	// a fork of the worker, not a master.
	got = discover(procs, func(int) bool { return false })
	for _, tr := range got {
		if tr.master.pid == 200 || tr.master.pid == 103 {
			t.Errorf("%d taken for a master", tr.master.pid)
		}
	}
}

func TestParseArgs(t *testing.T) {
	tests := []struct {
		args string
		want map[string]string // setting → value ("a,b" for lists)
		pos  string
		unk  string
	}{
		{"-w 4 app:app", map[string]string{"workers": "4"}, "app:app", ""},
		{"-w4 -k=gevent --bind=unix:/x.sock -b 0.0.0.0:80 app:app", map[string]string{"workers": "4", "worker_class": "gevent", "bind": "unix:/x.sock,0.0.0.0:80"}, "app:app", ""},
		{"--workers=3 --workers 5", map[string]string{"workers": "5"}, "", ""},
		{"--preload app:app --timeout 60", map[string]string{"preload_app": "True", "timeout": "60"}, "app:app", ""},
		{"--max-requests 1000 --max-requests-jitter=50", map[string]string{"max_requests": "1000", "max_requests_jitter": "50"}, "", ""},
		{"--grace 7 --max-requests-j 9", map[string]string{"graceful_timeout": "7", "max_requests_jitter": "9"}, "", ""}, // argparse prefixes
		{"--work 7", map[string]string{}, "7", "--work"},                                                                 // --workers, --worker-class...: ambiguous
		{"--max 9", map[string]string{}, "9", "--max"},                                                                   // ambiguous prefix
		{"-Dw 2 --log-file /var/log/g.log", map[string]string{"daemon": "True", "workers": "2", "errorlog": "/var/log/g.log"}, "", ""},
		{"--frobnicate app:app", map[string]string{}, "app:app", "--frobnicate"},
		{"-w 2 -- --not-an-option", map[string]string{"workers": "2"}, "--not-an-option", ""},
		{"-c python:conf.settings app", map[string]string{"config": "python:conf.settings"}, "app", ""},
		{"--graceful-timeout=45 -t 90", map[string]string{"graceful_timeout": "45", "timeout": "90"}, "", ""},
	}
	for _, tt := range tests {
		p := parseArgs(strings.Fields(tt.args))
		got := map[string]string{}
		for k, v := range p.values {
			if v.list != nil {
				got[k] = strings.Join(v.list, ",")
			} else {
				got[k] = v.value
			}
		}
		if len(got) != len(tt.want) {
			t.Errorf("parseArgs(%q) = %v, want %v", tt.args, got, tt.want)
			continue
		}
		for k, v := range tt.want {
			if got[k] != v {
				t.Errorf("parseArgs(%q)[%s] = %q, want %q", tt.args, k, got[k], v)
			}
		}
		if strings.Join(p.positional, " ") != tt.pos || strings.Join(p.unknown, " ") != tt.unk {
			t.Errorf("parseArgs(%q): positional %q unknown %q, want %q %q", tt.args, p.positional, p.unknown, tt.pos, tt.unk)
		}
	}
	if p := parseArgs([]string{"-w"}); len(p.missing) != 1 || len(p.values) != 0 {
		t.Errorf("-w without a value: %+v", p)
	}
}

func TestShlexSplit(t *testing.T) {
	tests := map[string][]string{
		`--timeout 90 --bind=0.0.0.0:80`:          {"--timeout", "90", "--bind=0.0.0.0:80"},
		`--access-logformat '%(h)s "%(r)s"' -w 3`: {"--access-logformat", `%(h)s "%(r)s"`, "-w", "3"},
		`--name "my app" --env A=b\ c`:            {"--name", "my app", "--env", "A=b c"},
		`  `:                                      nil,
		`--log-level "de\"bug"`:                   {"--log-level", `de"bug`},
	}
	for in, want := range tests {
		got, err := shlexSplit(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("shlexSplit(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := shlexSplit(`--name "open`); err == nil {
		t.Error("unclosed quote: no error")
	}
}

func TestParseConfigFile(t *testing.T) {
	src := `"""Gunicorn settings."""
import multiprocessing, os
from os import environ

bind = ["unix:/run/gunicorn.sock",
        "127.0.0.1:8000"]  # two addresses
workers = 9
workers = 4  # the last one wins
threads: int = 2
timeout = 60; graceful_timeout = 0x1e
worker_class = "gevent"
errorlog = '/var/log/gunicorn/error.log'
accesslog = None
preload_app = True
max_requests = 1_000
max_requests_jitter = int(environ.get("JITTER", 50))
backlog = 2048 * 2
keepalive = \
    5
loglevel = f"{os.environ['LEVEL']}"
proc_name = f"shop"
worker_connections = 1000
worker_connections += 1

def on_starting(server):
    timeout = 5  # a local of the hook

class Hooks:
    workers = 100

try:
    import gevent
except ImportError:
    worker_class = "sync"

if os.environ.get("BIG"): threads = 8
chdir = "/srv/app"  # back at module level
s = "timeout = 999"
`
	cf := parseConfigFile(src, isConfigSetting)
	lit := map[string]string{
		"bind": "unix:/run/gunicorn.sock,127.0.0.1:8000", "workers": "4", "timeout": "60", "graceful_timeout": "30",
		"errorlog": "/var/log/gunicorn/error.log", "accesslog": "None", "preload_app": "True", "max_requests": "1000",
		"keepalive": "5", "proc_name": "shop", "chdir": "/srv/app",
	}
	for name, want := range lit {
		v, ok := cf.values[name]
		if !ok || !v.literal || v.value != want {
			t.Errorf("%s = %+v, want literal %q", name, v, want)
		}
	}
	unknown := map[string]string{
		"max_requests_jitter": `int(environ.get("JITTER", 50))`,
		"backlog":             "2048 * 2",
		"loglevel":            `f"{os.environ['LEVEL']}"`,
		"worker_connections":  "worker_connections += 1",
		"worker_class":        `"gevent", or "sync" under the condition at line 33`,
		"threads":             "2, or 8 under the condition at line 36",
	}
	for name, want := range unknown {
		v, ok := cf.values[name]
		if !ok || v.literal || v.expr != want {
			t.Errorf("%s = %+v, want unknown %q", name, v, want)
		}
	}
	if v := cf.values["workers"]; v.line != 8 {
		t.Errorf("workers from line %d, want 8", v.line)
	}
	if v := cf.values["bind"]; len(v.list) != 2 || v.line != 5 {
		t.Errorf("bind = %+v, want a list of 2 from line 5", v)
	}
	if len(cf.notes) != 0 {
		t.Errorf("notes: %q", cf.notes)
	}
	if cf := parseConfigFile("from settings_base import *\nworkers = 2\n", isConfigSetting); len(cf.notes) != 1 {
		t.Errorf("star import not noted: %q", cf.notes)
	}
}

func TestParseLiteral(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"4", "4", true}, {"-1", "-1", true}, {"0o17", "15", true}, {"1_000", "1000", true},
		{`"a b"`, "a b", true}, {`'it\'s'`, "it's", true}, {`r"\d"`, `\d`, true}, {`"""x"""`, "x", true},
		{"True", "True", true}, {"None", "None", true}, {`("a",)`, "a", true}, {`[]`, "", true}, {"(4)", "4", true},
		{`"a" "b"`, "", false}, {"4.5", "", false}, {"x", "", false}, {"os.cpu_count()", "", false},
		{`f"{x}"`, "", false}, {`["a", x]`, "", false}, {`[["a"]]`, "", false},
	}
	for _, tt := range tests {
		got, _, ok := parseLiteral(tt.in)
		if ok != tt.ok || got != tt.want {
			t.Errorf("parseLiteral(%s) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestMergePrecedence(t *testing.T) {
	cf := parseConfigFile("workers = 3\ntimeout = 60\nbind = 'unix:/x'\nmax_requests = 10\n", isConfigSetting)
	st := startup{
		cmd:        parseArgs(strings.Fields("-w 5 app:app")),
		env:        map[string]string{"GUNICORN_CMD_ARGS": "-t 90 -w 4", "WEB_CONCURRENCY": "7"},
		envArgs:    parseArgs(strings.Fields("-t 90 -w 4")),
		config:     &cf,
		configName: "/etc/g.py",
	}
	ss := st.merge()
	for _, tt := range []struct {
		name, value string
		src         Source
	}{
		{"workers", "5", SourceCommandLine},   // command line > GUNICORN_CMD_ARGS > file > WEB_CONCURRENCY
		{"timeout", "90", SourceEnv},          // GUNICORN_CMD_ARGS > file
		{"bind", "unix:/x", SourceConfigFile}, // file > default
		{"max_requests", "10", SourceConfigFile},
		{"graceful_timeout", "30", SourceDefault},
	} {
		if s := ss.Get(tt.name); s.Value != tt.value || s.Source != tt.src || s.Caveat != "" {
			t.Errorf("%s = %+v, want %s from %s", tt.name, s, tt.value, tt.src)
		}
	}
	// WEB_CONCURRENCY is the default of workers; PORT the default bind.
	ss = startup{cmd: parseArgs(nil), env: map[string]string{"WEB_CONCURRENCY": "7", "PORT": "5000"}}.merge()
	if s := ss.Get("workers"); s.Value != "7" || s.Source != SourceWebConcurrency {
		t.Errorf("workers = %+v, want 7 from WEB_CONCURRENCY", s)
	}
	if s := ss.Get("bind"); s.Value != "0.0.0.0:5000" || s.Source != SourceDefault {
		t.Errorf("bind = %+v, want 0.0.0.0:5000", s)
	}
}

func TestCgroupFiles(t *testing.T) {
	for in, want := range map[string]float64{"max 100000": 0, "100000 100000": 1, "150000 100000": 1.5, "50000": 0.5} {
		if got, err := parseCPUMax(in); err != nil || got != want {
			t.Errorf("parseCPUMax(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if q, err := parseCFS("-1", "100000"); err != nil || q != 0 {
		t.Errorf("cfs -1: %v %v", q, err)
	}
	if q, err := parseCFS("250000\n", "100000\n"); err != nil || q != 2.5 {
		t.Errorf("cfs 2.5: %v %v", q, err)
	}
	for in, want := range map[string]uint64{"max\n": 0, "536870912": 512 << 20, "9223372036854771712": 0} {
		if got, err := parseMemoryLimit(in); err != nil || got != want {
			t.Errorf("parseMemoryLimit(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	lines := parseProcCgroup([]byte("12:memory:/docker/ab\n4:cpu,cpuacct:/docker/ab\n0::/system.slice/x.service\n"))
	if len(lines) != 3 || !slices.Equal(lines[1].controllers, []string{"cpu", "cpuacct"}) || lines[2].controllers != nil || lines[2].path != "/system.slice/x.service" {
		t.Errorf("parseProcCgroup: %+v", lines)
	}
	for _, tt := range []struct {
		online int
		cg     Cgroup
		want   float64
	}{
		{4, Cgroup{}, 4}, {4, Cgroup{CPUQuota: 1}, 1}, {4, Cgroup{CPUSet: 2, CPUQuota: 3}, 2}, {2, Cgroup{CPUQuota: 8}, 2},
	} {
		if got, ok := EffectiveCPUs(tt.online, tt.cg); !ok || got != tt.want {
			t.Errorf("EffectiveCPUs(%d, %+v) = %v, want %v", tt.online, tt.cg, got, tt.want)
		}
	}
}

func TestSockets(t *testing.T) {
	tcp := "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
		"   0: 00000000:1F40 00000000:0000 0A 00000000:00000011 00:00000000 00000000     0        0 4242 1 0 100 0 0 10 0\n" +
		"   1: 0100007F:2328 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4243 1 0 100 0 0 10 0\n" +
		"   2: 0100007F:1F40 0200007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 4244 1 0 100 0 0 10 0\n"
	socks, err := parseNetTCP([]byte(tcp))
	if err != nil || len(socks) != 3 {
		t.Fatalf("parseNetTCP: %v %+v", err, socks)
	}
	if s := socks[0]; !s.ip.Equal(net.IPv4zero) || s.port != 8000 || s.state != tcpListen || s.rxQueue != 17 || s.inode != 4242 {
		t.Errorf("socket 0: %+v", s)
	}
	if !socks[1].ip.Equal(net.ParseIP("127.0.0.1")) || socks[1].port != 9000 {
		t.Errorf("socket 1: %+v", socks[1])
	}
	tcp6 := "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
		"   0: 00000000000000000000000000000000:1F40 00000000000000000000000000000000:0000 0A 00000000:00000002 00:00000000 00000000     0        0 5000 1 0 100 0 0 10 0\n" +
		"   1: 00000000000000000000000001000000:1F41 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5001 1 0 100 0 0 10 0\n"
	s6, err := parseNetTCP([]byte(tcp6))
	if err != nil || len(s6) != 2 || !s6[0].ip.Equal(net.IPv6unspecified) || !s6[1].ip.Equal(net.IPv6loopback) {
		t.Fatalf("tcp6: %v %+v", err, s6)
	}
	all := append(socks, s6...)
	for _, tt := range []struct {
		bind   string
		inodes map[uint64]bool
		want   []uint64
	}{
		{"0.0.0.0:8000", nil, []uint64{4242}},
		{"[::]:8000", nil, []uint64{5000}},
		{"localhost:8000", nil, []uint64{4242, 5000}}, // a name: any address on the port
		{"127.0.0.1:9000", nil, []uint64{4243}},
		{"127.0.0.1:8000", nil, nil}, // only an established socket there
		{"0.0.0.0:8000", map[uint64]bool{5000: true}, []uint64{5000}},
	} {
		a, err := parseBind(tt.bind)
		if err != nil {
			t.Fatal(err)
		}
		var got []uint64
		for _, s := range matchListen(all, a, tt.inodes) {
			got = append(got, s.inode)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("matchListen(%s) = %v, want %v", tt.bind, got, tt.want)
		}
	}
	for in, want := range map[string]bindAddr{
		"unix:/run/g.sock":   {kind: "unix", path: "/run/g.sock"},
		"unix:///run/g.sock": {kind: "unix", path: "/run/g.sock"},
		"fd://3":             {kind: "fd", path: "3"},
		"tcp://Example.com":  {kind: "tcp", host: "example.com", port: 8000},
		"":                   {kind: "tcp", host: "0.0.0.0", port: 8000},
		"[::1]:5000":         {kind: "tcp", host: "::1", port: 5000},
	} {
		if got, err := parseBind(in); err != nil || got != want {
			t.Errorf("parseBind(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	if _, err := parseBind("host:http"); err == nil {
		t.Error("parseBind with a service name: no error")
	}
	if n, ok := socketInode("socket:[4242]"); !ok || n != 4242 {
		t.Errorf("socketInode: %d %v", n, ok)
	}
	if _, ok := socketInode("pipe:[1]"); ok {
		t.Error("a pipe read as a socket")
	}
}

// TestAuditCheckIDs: every id a check reports or skips is in Checks(), so
// each finding carries its insight and rule.
func TestAuditCheckIDs(t *testing.T) {
	src, err := os.ReadFile("checks.go")
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, c := range Checks() {
		if known[c.ID] || c.Insight == "" || c.Rule == "" || c.Title == "" {
			t.Errorf("check %+v: duplicate or incomplete", c)
		}
		known[c.ID] = true
	}
	used := regexp.MustCompile(`a\.(?:add|skip)\("([a-z_.]+)"`).FindAllStringSubmatch(string(src), -1)
	if len(used) < len(known) {
		t.Errorf("only %d uses of check ids found in checks.go", len(used))
	}
	for _, m := range used {
		if !known[m[1]] {
			t.Errorf("checks.go reports %q, which Checks() does not list", m[1])
		}
	}
}
