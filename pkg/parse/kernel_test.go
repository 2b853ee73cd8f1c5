package parse

import (
	"testing"
	"time"
)

func TestKernelParse(t *testing.T) {
	p := For(FormatKernel)
	const seg = "a.out[40342]: segfault at 0 ip 00000000004005b1 sp 00007ffc5b1be400 error 4 in a.out[400000+1000]"
	up := 12345*time.Second + 678901*time.Microsecond
	tests := []struct {
		name string
		rec  string
		want wantEvent
	}{
		{"dmesg", "[12345.678901] " + seg,
			wantEvent{ok: true, time: "2026-11-20T03:25:45.678901Z", uptime: up, message: seg, fields: "-"}},
		{"dmesg padded", "[    5.140900] EXT4-fs (sda1): mounted",
			wantEvent{ok: true, time: "2026-11-20T00:00:05.1409Z", uptime: 5140900 * time.Microsecond, message: "EXT4-fs (sda1): mounted", fields: "-"}},
		{"dmesg keeps the message's own leading space", "[    5.000000]  dump_stack_lvl+0x76/0xa0",
			wantEvent{ok: true, time: "2026-11-20T00:00:05Z", uptime: 5 * time.Second, message: " dump_stack_lvl+0x76/0xa0", fields: "-"}},
		{"dmesg caller", "[    5.000000] [  T412] usb 1-1: new device",
			wantEvent{ok: true, time: "2026-11-20T00:00:05Z", uptime: 5 * time.Second, message: "usb 1-1: new device", fields: "caller=T412"}},
		{"dmesg multi-line", "[12345.678901] first\n               second",
			wantEvent{ok: true, time: "2026-11-20T03:25:45.678901Z", uptime: up, message: "first\nsecond", fields: "-"}},
		{"dmesg -r", "<6>[12345.678901] " + seg,
			wantEvent{ok: true, time: "2026-11-20T03:25:45.678901Z", uptime: up, level: "6", message: seg, fields: "priority=6 facility=0"}},
		{"dmesg -r userspace", "<12>[   14.000000] Out of memory: Killed process 1 (forged)",
			wantEvent{ok: true, time: "2026-11-20T00:00:14Z", uptime: 14 * time.Second, level: "4", message: "Out of memory: Killed process 1 (forged)", fields: "priority=4 facility=1"}},
		{"<N> without time, kernel facility", "<3>no timestamp",
			wantEvent{ok: true, time: "zero", level: "3", message: "no timestamp", fields: "priority=3 facility=0"}},
		{"<N> without time, other facility", "<14>gunicorn.x.error: [1] y", wantEvent{ok: false}},
		{"dmesg -T", "[Tue Nov 24 10:00:00 2026] " + seg,
			wantEvent{ok: true, time: "2026-11-24T10:00:00Z", message: seg, fields: "-"}},
		{"dmesg -T padded day", "[Wed Nov  4 09:05:03 2026] x",
			wantEvent{ok: true, time: "2026-11-04T09:05:03Z", message: "x", fields: "-"}},
		{"dmesg -T invalid day", "[Wed Feb 30 09:05:03 2026] x", wantEvent{ok: false}},
		{"dmesg iso", "2026-11-24T10:00:00,123456+00:00 " + seg,
			wantEvent{ok: true, time: "2026-11-24T10:00:00.123456Z", message: seg, fields: "-"}},
		{"dmesg iso offset", "2026-11-24T11:00:00,000001+0100 x",
			wantEvent{ok: true, time: "2026-11-24T11:00:00.000001+01:00", message: "x", fields: "-"}},
		{"dmesg -x", "kern  :err   : [12345.678901] " + seg,
			wantEvent{ok: true, time: "2026-11-20T03:25:45.678901Z", uptime: up, level: "3", message: seg, fields: "priority=3 facility=0"}},
		{"dmesg -x daemon", "daemon:notice: [    1.000000] x",
			wantEvent{ok: true, time: "2026-11-20T00:00:01Z", uptime: time.Second, level: "5", message: "x", fields: "priority=5 facility=3"}},
		{"dmesg -x unknown facility", "kernel:info  : [1.0] x", wantEvent{ok: false}},
		{"kmsg", "6,1234,12345678901,-;" + seg,
			wantEvent{ok: true, time: "2026-11-20T03:25:45.678901Z", uptime: up, level: "6", message: seg, fields: "priority=6 facility=0 seq=1234"}},
		{"kmsg userspace", "30,1500,16000000,-;udevd[80]: starting version 181",
			wantEvent{ok: true, time: "2026-11-20T00:00:16Z", uptime: 16 * time.Second, level: "6", message: "udevd[80]: starting version 181", fields: "priority=6 facility=3 seq=1500"}},
		{"kmsg caller and future fields", "4,7,1000000,-,caller=T4312,x=y;msg",
			wantEvent{ok: true, time: "2026-11-20T00:00:01Z", uptime: time.Second, level: "4", message: "msg", fields: "priority=4 facility=0 seq=7 caller=T4312"}},
		{"kmsg escapes", `6,8,1000000,-;a\x0ab\x5cc\x09d\xffe\x0g\x`,
			wantEvent{ok: true, time: "2026-11-20T00:00:01Z", uptime: time.Second, level: "6", message: "a\nb\\c\td\xffe\\x0g\\x", fields: "priority=6 facility=0 seq=8"}},
		{"kmsg dictionary", "6,9,1000000,-;ACPI: PCI Root Bridge\n SUBSYSTEM=acpi\n DEVICE=+acpi:PNP0A03:00",
			wantEvent{ok: true, time: "2026-11-20T00:00:01Z", uptime: time.Second, level: "6", message: "ACPI: PCI Root Bridge", fields: "priority=6 facility=0 seq=9 SUBSYSTEM=acpi DEVICE=+acpi:PNP0A03:00"}},
		{"kmsg continuation that is not a dictionary line", "6,9,1000000,-;first\n second",
			wantEvent{ok: true, time: "2026-11-20T00:00:01Z", uptime: time.Second, level: "6", message: "first\nsecond", fields: "priority=6 facility=0 seq=9"}},
		{"kmsg without semicolon", "6,1234,12345678901,-", wantEvent{ok: false}},
		{"kmsg with a space in flags", "6,1,2,- x;m", wantEvent{ok: false}},
		{"syslog kernel", "Nov 24 10:00:00 web1 kernel: " + seg,
			wantEvent{ok: true, time: "2026-11-24T10:00:00Z", message: seg, fields: "host=web1 tag=kernel"}},
		{"syslog kernel with imklog bracket", "Nov 24 10:00:00 web1 kernel: [12345.678901] " + seg,
			wantEvent{ok: true, time: "2026-11-24T10:00:00Z", uptime: up, message: seg, fields: "host=web1 tag=kernel"}},
		{"syslog other program", "Nov 24 10:00:01 web1 systemd[1]: gunicorn.service: A process of this unit has been killed by the OOM killer.",
			wantEvent{ok: true, time: "2026-11-24T10:00:01Z", pid: 1, message: "gunicorn.service: A process of this unit has been killed by the OOM killer.", fields: "host=web1 tag=systemd"}},
		{"syslog other program keeps a bracket", "Nov 24 10:00:01 web1 app: [1.5] x",
			wantEvent{ok: true, time: "2026-11-24T10:00:01Z", message: "[1.5] x", fields: "host=web1 tag=app"}},
		{"syslog PRI", "<4>Nov 24 10:00:02 web1 kernel: x",
			wantEvent{ok: true, time: "2026-11-24T10:00:02Z", level: "4", message: "x", fields: "priority=4 facility=0 host=web1 tag=kernel"}},
		{"syslog zero-padded day", "Nov 04 10:00:02 web1 kernel: x",
			wantEvent{ok: true, time: "2026-11-04T10:00:02Z", message: "x", fields: "host=web1 tag=kernel"}},
		{"syslog empty message", "Nov 04 10:00:02 web1 kernel:",
			wantEvent{ok: true, time: "2026-11-04T10:00:02Z", message: "", fields: "host=web1 tag=kernel"}},
		{"rfc3339", "2026-11-24T10:00:00.123456+00:00 web1 kernel: x",
			wantEvent{ok: true, time: "2026-11-24T10:00:00.123456Z", message: "x", fields: "host=web1 tag=kernel"}},
		{"short-iso", "2026-11-24T10:00:00+0100 web1 kernel: x",
			wantEvent{ok: true, time: "2026-11-24T10:00:00+01:00", message: "x", fields: "host=web1 tag=kernel"}},
		{"short-monotonic", "[12345.678901] web1 kernel: x",
			wantEvent{ok: true, time: "2026-11-20T03:25:45.678901Z", uptime: up, message: "x", fields: "host=web1 tag=kernel"}},
		{"journal multi-line", "Nov 24 10:00:01 web1 systemd-coredump[134090]: Process 1 (a.out) of user 0 dumped core.\n                                               \n                                               Stack trace of thread 1:\n                                               #0  0x1 main (a.out + 0x1)",
			wantEvent{ok: true, time: "2026-11-24T10:00:01Z", pid: 134090, message: "Process 1 (a.out) of user 0 dumped core.\n\nStack trace of thread 1:\n#0  0x1 main (a.out + 0x1)", fields: "host=web1 tag=systemd-coredump"}},
		{"json", `{"__REALTIME_TIMESTAMP":"1795514400000000","_TRANSPORT":"kernel","PRIORITY":"3","SYSLOG_IDENTIFIER":"kernel","_SOURCE_MONOTONIC_TIMESTAMP":"1000000","MESSAGE":"Out of memory"}`,
			wantEvent{ok: true, time: "2026-11-24T10:00:00Z", uptime: time.Second, level: "3", message: "Out of memory", fields: "priority=3 facility=0 tag=kernel"}},
		{"json bytes", `{"MESSAGE":[104,105,255],"SYSLOG_FACILITY":"1","_PID":"7"}`,
			wantEvent{ok: true, time: "zero", pid: 7, message: "hi\xff", fields: "facility=1"}},
		{"json without MESSAGE", `{"PRIORITY":"3"}`, wantEvent{ok: false}},
		{"json with a bad byte", `{"MESSAGE":[300]}`, wantEvent{ok: false}},
		{"broken json", `{"MESSAGE":"x"`, wantEvent{ok: false}},
		{"continuation alone", " SUBSYSTEM=acpi", wantEvent{ok: false}},
		{"garbage", "hello world", wantEvent{ok: false}},
		{"empty", "", wantEvent{ok: false}},
		{"bad uptime", "[12a45.6] x", wantEvent{ok: false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkEvent(t, p, testCtx, tt.rec, tt.want) })
	}
}

func TestKernelNoBootTime(t *testing.T) {
	checkEvent(t, For(FormatKernel), &Context{}, "[12345.678901] x",
		wantEvent{ok: true, time: "zero", uptime: 12345678901 * time.Microsecond, message: "x", fields: "-"})
	checkEvent(t, For(FormatKernel), &Context{}, "Nov 24 10:00:00 web1 kernel: x",
		wantEvent{ok: true, time: "zero", message: "x", fields: "host=web1 tag=kernel"})
}

func TestYearless(t *testing.T) {
	ref := func(s string) *Context {
		r, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return &Context{Reference: r}
	}
	tests := []struct {
		ctx  *Context
		mon  time.Month
		day  int
		h    int
		want string
	}{
		{ref("2026-11-26T00:00:00Z"), time.November, 24, 10, "2026-11-24T10:00:00Z"},
		{ref("2026-11-26T00:00:00Z"), time.November, 26, 23, "2026-11-26T23:00:00Z"}, // within a day after
		{ref("2026-11-26T00:00:00Z"), time.November, 27, 1, "2025-11-27T01:00:00Z"},  // more than a day after
		{ref("2027-01-02T00:00:00Z"), time.December, 31, 23, "2026-12-31T23:00:00Z"}, // rollover
		{ref("2027-01-01T00:30:00Z"), time.January, 1, 0, "2027-01-01T00:00:00Z"},    // new year already
		{ref("2029-03-01T00:00:00Z"), time.February, 29, 12, "2028-02-29T12:00:00Z"}, // leap day
		{ref("2028-02-29T13:00:00Z"), time.February, 29, 12, "2028-02-29T12:00:00Z"}, // leap year itself
		{ref("2101-06-01T00:00:00Z"), time.February, 29, 12, "2096-02-29T12:00:00Z"}, // 2100 is not leap
		{&Context{}, time.November, 24, 10, "zero"},
		{nil, time.November, 24, 10, "zero"},
	}
	for _, tt := range tests {
		got := yearless(tt.ctx, tt.mon, tt.day, tt.h, 0, 0, 0)
		s := "zero"
		if !got.IsZero() {
			s = got.Format(time.RFC3339)
		}
		if s != tt.want {
			t.Errorf("yearless(%v, %v %d %d:00) = %s, want %s", tt.ctx, tt.mon, tt.day, tt.h, s, tt.want)
		}
	}
}

// Zone of yearless syslog times: ctx.Location, with its own DST rules.
func TestYearlessLocation(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no zoneinfo:", err)
	}
	ctx := &Context{Location: berlin, Reference: time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)}
	checkEvent(t, For(FormatKernel), ctx, "Jul  1 12:00:00 h kernel: x",
		wantEvent{ok: true, time: "2026-07-01T12:00:00+02:00", message: "x", fields: "host=h tag=kernel"})
	checkEvent(t, For(FormatKernel), ctx, "Nov 25 12:00:00 h kernel: x",
		wantEvent{ok: true, time: "2026-11-25T12:00:00+01:00", message: "x", fields: "host=h tag=kernel"})
}

func TestKernelStarts(t *testing.T) {
	p := For(FormatKernel)
	for line, want := range map[string]bool{
		"6,1,2,-;x":              true,
		" SUBSYSTEM=acpi":        false,
		"\tindented":             false,
		"[    1.0] x":            true,
		"Nov 24 10:00:00 h k: x": true,
		"":                       true,
	} {
		if got := p.Starts(line); got != want {
			t.Errorf("Starts(%q) = %v, want %v", line, got, want)
		}
	}
}
