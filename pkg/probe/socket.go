package probe

import (
	"encoding/hex"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// This file measures the accept queue of a master's listening sockets. For
// a TCP socket in LISTEN state, the rx_queue column of /proc/net/tcp{,6} is
// the accept queue: connections the kernel has completed and no worker has
// accepted yet. /proc/net/unix shows no queue at all: a unix socket's queue
// is only exposed through sock_diag netlink (what `ss -xl` reads).

// Listener is one address a master listens on.
type Listener struct {
	Bind string `json:"bind"` // as configured: unix:/run/gunicorn.sock, 0.0.0.0:8000
	Kind string `json:"kind"` // tcp, unix or fd
	// Queue is the accept queue now; -1 when not known (see Why).
	Queue int `json:"queue"`
	// Max is the longest the queue can get: the backlog setting capped by
	// net.core.somaxconn; 0 when unknown.
	Max int    `json:"max,omitempty"`
	Why string `json:"why,omitempty"`
}

// bindAddr is a Gunicorn bind address, parsed as gunicorn.util.parse_address.
type bindAddr struct {
	kind string // tcp, unix, fd
	host string
	port int
	path string
}

func parseBind(b string) (bindAddr, error) {
	switch {
	case strings.HasPrefix(b, "unix:"):
		return bindAddr{kind: "unix", path: strings.TrimPrefix(strings.TrimPrefix(b, "unix:"), "//")}, nil
	case strings.HasPrefix(b, "fd://"):
		return bindAddr{kind: "fd", path: b[len("fd://"):]}, nil
	}
	netloc := strings.TrimPrefix(b, "tcp://")
	host, port := netloc, "8000"
	switch {
	case strings.Contains(netloc, "[") && strings.Contains(netloc, "]"):
		host = strings.TrimPrefix(strings.SplitN(netloc, "]", 2)[0], "[")
		if _, p, ok := strings.Cut(netloc, "]:"); ok {
			port = p
		}
	case strings.Contains(netloc, ":"):
		host, port, _ = strings.Cut(netloc, ":")
		if i := strings.IndexByte(port, ':'); i >= 0 {
			port = port[:i]
		}
	case netloc == "":
		host = "0.0.0.0"
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return bindAddr{}, fmt.Errorf("bind %q: %q is not a port number", b, port)
	}
	return bindAddr{kind: "tcp", host: strings.ToLower(host), port: n}, nil
}

// tcpSocket is one row of /proc/net/tcp or tcp6.
type tcpSocket struct {
	ip      net.IP
	port    int
	state   int // 0x0A is LISTEN
	rxQueue int
	inode   uint64
}

const tcpListen = 0x0A

// parseNetTCP parses /proc/net/tcp or /proc/net/tcp6.
func parseNetTCP(data []byte) ([]tcpSocket, error) {
	var out []tcpSocket
	lines := strings.Split(string(data), "\n")
	for i, l := range lines {
		f := strings.Fields(l)
		if i == 0 || len(f) < 10 {
			continue // the header, or a blank line
		}
		addr, port, ok := strings.Cut(f[1], ":")
		if !ok {
			return nil, fmt.Errorf("net/tcp line %d: local address %q", i+1, f[1])
		}
		ip, err := parseHexIP(addr)
		if err != nil {
			return nil, fmt.Errorf("net/tcp line %d: %w", i+1, err)
		}
		p, err1 := strconv.ParseUint(port, 16, 16)
		st, err2 := strconv.ParseUint(f[3], 16, 8)
		_, rx, _ := strings.Cut(f[4], ":")
		q, err3 := strconv.ParseUint(rx, 16, 32)
		inode, err4 := strconv.ParseUint(f[9], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
			return nil, fmt.Errorf("net/tcp line %d: %q", i+1, l)
		}
		out = append(out, tcpSocket{ip: ip, port: int(p), state: int(st), rxQueue: int(q), inode: inode})
	}
	return out, nil
}

// parseHexIP reads the kernel's address: 32-bit words in host (little
// endian) order, 8 hex digits for IPv4 and 32 for IPv6.
func parseHexIP(s string) (net.IP, error) {
	b, err := hex.DecodeString(s)
	if err != nil || (len(b) != 4 && len(b) != 16) {
		return nil, fmt.Errorf("address %q: want 8 or 32 hex digits", s)
	}
	for i := 0; i < len(b); i += 4 {
		b[i], b[i+1], b[i+2], b[i+3] = b[i+3], b[i+2], b[i+1], b[i]
	}
	return net.IP(b), nil
}

// matchListen finds the LISTEN sockets of a TCP bind address. With the
// master's socket inodes (from /proc/PID/fd) the match is exact; without
// them it is by port and address.
func matchListen(socks []tcpSocket, a bindAddr, inodes map[uint64]bool) []tcpSocket {
	var out []tcpSocket
	for _, s := range socks {
		if s.state != tcpListen || s.port != a.port {
			continue
		}
		if inodes != nil {
			if inodes[s.inode] {
				out = append(out, s)
			}
			continue
		}
		if hostMatches(a.host, s.ip) {
			out = append(out, s)
		}
	}
	return out
}

// hostMatches says whether a socket bound to ip can be the one Gunicorn
// bound for host. Gunicorn makes an IPv4 socket for an IPv4 address and an
// IPv6 one otherwise, and they appear in tcp and tcp6 (ip of 4 and 16
// bytes); a name (localhost, a hostname) matches any address.
func hostMatches(host string, ip net.IP) bool {
	want := net.ParseIP(host)
	if want == nil {
		return true
	}
	if (want.To4() != nil) != (len(ip) == net.IPv4len) {
		return false
	}
	return want.Equal(ip) || want.IsUnspecified() && ip.IsUnspecified()
}

// socketInode reads a /proc/PID/fd link target "socket:[12345]".
func socketInode(target string) (uint64, bool) {
	s, ok := strings.CutPrefix(target, "socket:[")
	if !ok || !strings.HasSuffix(s, "]") {
		return 0, false
	}
	n, err := strconv.ParseUint(strings.TrimSuffix(s, "]"), 10, 64)
	return n, err == nil
}

// readListeners measures the accept queue of each bind address of a
// master. backlog is the backlog setting (0 when unknown).
func (f files) readListeners(pid int, binds []string, backlog, somaxconn int, u *unreadables) ([]Listener, []string) {
	var out []Listener
	var notes []string
	var socks []tcpSocket
	var inodes map[uint64]bool
	tcpRead := false
	for _, b := range binds {
		l := Listener{Bind: b, Queue: -1}
		if backlog > 0 {
			l.Max = backlog
			if somaxconn > 0 && somaxconn < backlog {
				l.Max = somaxconn
			}
		}
		a, err := parseBind(b)
		if err != nil {
			l.Kind, l.Why = "tcp", err.Error()
			out = append(out, l)
			continue
		}
		l.Kind = a.kind
		switch a.kind {
		case "unix":
			l.Why = "a unix socket's accept queue is not in /proc/net/unix; only sock_diag netlink exposes it (ss -xl)"
		case "fd":
			l.Why = "an inherited file descriptor (systemd socket activation): its address is not in the settings"
		case "tcp":
			if !tcpRead {
				tcpRead = true
				socks, inodes = f.readTCP(pid, u)
				if socks == nil {
					notes = append(notes, "the TCP socket table could not be read: accept queues unknown")
				} else if inodes == nil {
					notes = append(notes, "listening sockets matched by port: the master's file descriptors could not be read")
				}
			}
			if socks == nil {
				l.Why = "no TCP socket table"
				break
			}
			matched := matchListen(socks, a, inodes)
			if len(matched) == 0 {
				l.Why = fmt.Sprintf("no LISTEN socket on port %d in the master's network namespace", a.port)
				break
			}
			l.Queue = 0
			for _, s := range matched {
				l.Queue += s.rxQueue
			}
		}
		out = append(out, l)
	}
	return out, notes
}

// readTCP reads the TCP sockets of the master's network namespace and the
// socket inodes it holds (nil when its fds cannot be read).
func (f files) readTCP(pid int, u *unreadables) ([]tcpSocket, map[uint64]bool) {
	var socks []tcpSocket
	read := false
	for _, name := range []string{"tcp", "tcp6"} {
		b, err := f.read(fmt.Sprintf("proc/%d/net/%s", pid, name))
		if err != nil {
			b, err = f.read("proc/net/" + name)
		}
		if err != nil {
			continue
		}
		s, err := parseNetTCP(b)
		if err != nil {
			continue
		}
		read = true
		socks = append(socks, s...)
	}
	if !read {
		return nil, nil
	}
	if socks == nil {
		socks = []tcpSocket{}
	}
	fdDir := fmt.Sprintf("proc/%d/fd", pid)
	ents, err := f.readDir(fdDir)
	if err != nil {
		if !gone(err) {
			u.add(pid, fdDir, err, "listening sockets matched by port instead of by inode")
		}
		return socks, nil
	}
	inodes := map[uint64]bool{}
	for _, e := range ents {
		if t, err := f.readlink(fdDir + "/" + e.Name()); err == nil {
			if n, ok := socketInode(t); ok {
				inodes[n] = true
			}
		}
	}
	return socks, inodes
}
