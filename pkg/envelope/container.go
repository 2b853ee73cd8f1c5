package envelope

import "strings"

// This file holds the prefixes that container runtimes, orchestrators and
// process managers put before each line: CRI, Heroku, compose, honcho,
// foreman and forego, kubectl --prefix, stern and a k9s pane.

// criFields reads what follows the stamp of a CRI log line:
// "stdout|stderr P|F[:tags] msg". P marks a chunk of a line the runtime cut
// (at containerd's 16 KiB) or a stream that ended without a newline.
func criFields(rest string) (stream string, partial bool, inner string, ok bool) {
	if len(rest) < 8 || rest[6] != ' ' {
		return "", false, "", false
	}
	stream = rest[:6]
	if stream != "stdout" && stream != "stderr" {
		return "", false, "", false
	}
	switch rest[7] {
	case 'P':
		partial = true
	case 'F':
	default:
		return "", false, "", false
	}
	j := 8
	if j < len(rest) && rest[j] == ':' {
		for j < len(rest) && rest[j] != ' ' {
			j++
		}
	}
	switch {
	case j == len(rest):
		return stream, partial, "", true
	case rest[j] == ' ':
		return stream, partial, rest[j+1:], true
	}
	return "", false, "", false
}

// herokuChunk is the size Heroku cuts longer dyno lines into: "split into
// 10000 byte chunks without extra trailing newlines".
const herokuChunk = 10000

// herokuHdr is "source[dyno]: " after a logplex stamp.
type herokuHdr struct {
	source, dyno string
	keyEnd, msg  int
}

func herokuFields(rest string) (h herokuHdr, ok bool) {
	switch {
	case strings.HasPrefix(rest, "app["):
		h.source = rest[:3]
	case strings.HasPrefix(rest, "heroku["):
		h.source = rest[:6]
	default:
		return h, false
	}
	open := len(h.source)
	end := strings.IndexByte(rest[open:], ']')
	if end < 2 || end > 64 {
		return h, false
	}
	end += open
	h.dyno = rest[open+1 : end]
	// A dyno is "web.1", "router", "api", "scheduler.4321"; digits alone
	// would be a pid, i.e. a syslog tag.
	if allDigits(h.dyno) {
		return h, false
	}
	for i := 0; i < len(h.dyno); i++ {
		if c := h.dyno[i]; !isAlpha(c) && !isDigit(c) && c != '.' && c != '-' && c != '_' {
			return h, false
		}
	}
	if end+1 >= len(rest) || rest[end+1] != ':' {
		return h, false
	}
	h.keyEnd = end + 1
	h.msg = msgStart(rest, end+2)
	return h, true
}

func (h herokuHdr) apply(p *peel, rest string) {
	p.env.Program = h.source
	p.env.Container = h.dyno
	p.keyAt(rest, 0, h.keyEnd)
}

// isoTop reads the ISO-stamped wrappers that re-join chunks, when they are
// the outermost layer: CRI, whose P chunks are re-joined per stream until
// the F chunk (a CRI file holds one container, so the stream names the
// writer), and Heroku, whose 10000-byte chunks of a long dyno line are
// re-joined per dyno. It reports false for any other line.
func (u *Unwrapper) isoTop(p *peel, s string, off int64) bool {
	st, ok := parseISO(s, u.ctx.loc())
	if !ok || st.zone == zoneNone || st.n >= len(s) || s[st.n] != ' ' {
		return false
	}
	rest := s[st.n+1:]
	if stream, partial, inner, ok := criFields(rest); ok && p.env.push(CRI) {
		p.env.Time = st.t
		p.env.Stream = stream
		p.keyAt(rest, 0, len(stream))
		if partial {
			u.hold(CRI, stream, off, p.env, inner)
		} else {
			u.complete(p, CRI, stream, off, inner)
		}
		return true
	}
	if h, ok := herokuFields(rest); ok && p.env.push(Heroku) {
		p.env.Time = st.t
		h.apply(p, rest)
		msg := rest[h.msg:]
		if h.source == "app" && len(msg) == herokuChunk {
			u.hold(Heroku, p.env.Key, off, p.env, msg)
		} else {
			u.complete(p, Heroku, p.env.Key, off, msg)
		}
		return true
	}
	return false
}

func nameChar(c byte) bool {
	return isAlpha(c) || isDigit(c) || c == '_' || c == '-' || c == '.'
}

// nameBarSplit reads "name +| msg", the prefix of docker compose (v1 pads
// the name and writes " |", v2 writes "%-Ns | ") and of forego.
func nameBarSplit(s string) (name, inner string, ok bool) {
	i := 0
	for i < len(s) && nameChar(s[i]) {
		i++
	}
	return barAfter(s, i)
}

// barAfter reads the " +| " after the name s[:i].
func barAfter(s string, i int) (name, inner string, ok bool) {
	if i == 0 || i >= len(s) || i > 128 || s[i] != ' ' || !isAlpha(s[0]) && !isDigit(s[0]) {
		return "", "", false
	}
	j := i + 1
	for j < len(s) && s[j] == ' ' {
		j++
	}
	if j >= len(s) || s[j] != '|' {
		return "", "", false
	}
	j++
	if j < len(s) {
		if s[j] != ' ' {
			return "", "", false
		}
		j++
	}
	return s[:i], s[j:], true
}

// procName reports whether name is a Procfile process, "web.1": forego,
// honcho and foreman number each process type's instances after a dot,
// where compose uses "_1" or "-1".
func procName(name string) bool {
	dot := strings.LastIndexByte(name, '.')
	if dot <= 0 || !allDigits(name[dot+1:]) {
		return false
	}
	for i := 0; i < dot; i++ {
		if c := name[i]; !isAlpha(c) && !isDigit(c) && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

// service drops compose's instance number ("web_1", "app-web-1") from a
// container name; a container_name without one is the service name.
func service(name string) string {
	i := len(name)
	for i > 0 && isDigit(name[i-1]) {
		i--
	}
	if i < len(name) && i > 1 && (name[i-1] == '_' || name[i-1] == '-') {
		return name[:i-1]
	}
	return name
}

// wordLine reads the prefixes that start with a name: compose and forego
// ("name  | msg") and stern ("pod container msg"). Their first token is
// scanned once, since most producer lines fail on it.
func wordLine(p *peel, s string) (string, bool) {
	i := 0
	upper, under, dot, dash := false, false, false, false
scan:
	for i < len(s) {
		switch c := s[i]; {
		case c >= 'a' && c <= 'z' || isDigit(c):
		case c >= 'A' && c <= 'Z':
			upper = true
		case c == '-':
			dash = true
		case c == '.':
			dot = true
		case c == '_':
			under = true
		default:
			break scan
		}
		i++
	}
	if i == 0 || i+1 >= len(s) || s[i] != ' ' {
		return s, false
	}
	if s[i+1] == ' ' || s[i+1] == '|' {
		return nameBar(p, s, i)
	}
	// Stern's names are DNS names: lowercase, and a pod (or a namespace
	// before a pod) is not an address or a host name as an access log
	// starts with. Stern is a terminal tool, so it is the outermost layer.
	if upper || under || i < 3 || dot && !dash || !p.top() {
		return s, false
	}
	return sternLine(p, s, i)
}

// nameBar reads a compose or forego prefix whose name is s[:i].
func nameBar(p *peel, s string, i int) (string, bool) {
	name, inner, ok := barAfter(s, i)
	if !ok {
		return s, false
	}
	if procName(name) {
		if !p.env.push(Procfile) {
			return s, false
		}
		p.env.Program = name
	} else {
		if !p.env.push(Compose) {
			return s, false
		}
		p.env.Program = service(name)
		p.env.Container = name
	}
	p.keyAt(s, 0, len(name))
	return inner, true
}

// honchoLine reads honcho's and foreman's "HH:MM:SS name  | msg"; the
// manager's own lines come from the name "system".
func (u *Unwrapper) honchoLine(p *peel, s string) (string, bool) {
	h, m, sec, ok := clock(s, 0)
	if !ok {
		return s, false
	}
	name, inner, ok := nameBarSplit(s[9:])
	if !ok || !p.env.push(Procfile) {
		return s, false
	}
	p.env.Program = name
	if outer := p.env.Time; !outer.IsZero() {
		p.env.Time = nearDate(outer, u.ctx.loc(), h, m, sec)
	} else if t := u.ctx.dateless(h, m, sec); !t.IsZero() {
		p.env.Time = t
	}
	p.keyAt(s, 9, 9+len(name))
	return inner, true
}

// kubectlPrefix reads kubectl logs --prefix: "[pod/NAME/CONTAINER] msg".
func kubectlPrefix(p *peel, s string) (string, bool) {
	if !strings.HasPrefix(s, "[pod/") {
		return s, false
	}
	i := 5
	for i < len(s) && (s[i] >= 'a' && s[i] <= 'z' || isDigit(s[i]) || s[i] == '-' || s[i] == '.') {
		i++
	}
	if i == 5 || i >= len(s) || s[i] != '/' {
		return s, false
	}
	j := i + 1
	for j < len(s) && (s[j] >= 'a' && s[j] <= 'z' || isDigit(s[j]) || s[j] == '-') {
		j++
	}
	if j == i+1 || j >= len(s) || s[j] != ']' {
		return s, false
	}
	inner := ""
	if k := j + 1; k < len(s) {
		if s[k] != ' ' {
			return s, false
		}
		inner = s[k+1:]
	}
	if !p.env.push(KubectlPrefix) {
		return s, false
	}
	p.env.Program = s[i+1 : j]
	p.env.Container = s[5:j]
	p.keyAt(s, 5, j)
	return inner, true
}

// dnsLabel reports whether s is a Kubernetes namespace or container name.
func dnsLabel(s string) bool {
	if s == "" || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || isDigit(c) || c == '-') {
			return false
		}
	}
	return true
}

// podSuffix is the alphabet of the random suffixes Kubernetes gives the
// pods of a ReplicaSet, DaemonSet or Job (no vowels, no 0, 1 or 3).
const podSuffix = "bcdfghjklmnpqrstvwxz2456789"

// podName reports whether s is a pod name. Uncoloured stern output has
// nothing else to go by, so then the name must end in a generated
// "-xxxxx" suffix; when stern's colours were there, any DNS name with a dash
// is taken.
func podName(s string, coloured bool) bool {
	if s == "" || len(s) > 253 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	dash := -1
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '-' {
			dash = i
		} else if !(c >= 'a' && c <= 'z' || isDigit(c) || c == '.') {
			return false
		}
	}
	if dash < 0 {
		return false
	}
	if coloured {
		return true
	}
	tail := s[dash+1:]
	if len(tail) != 5 {
		return false
	}
	for i := 0; i < len(tail); i++ {
		if strings.IndexByte(podSuffix, tail[i]) < 0 {
			return false
		}
	}
	return true
}

// nextToken returns the space-separated token of s at i and the index of
// the space after it (len(s) at the end).
func nextToken(s string, i int) (string, int) {
	j := i
	for j < len(s) && s[j] != ' ' {
		j++
	}
	return s[i:j], j
}

// sternLine reads stern's "[NS ]POD CONTAINER msg"; s[:e1] is the first
// token, already checked for its characters.
func sternLine(p *peel, s string, e1 int) (string, bool) {
	t1 := s[:e1]
	t2, e2 := nextToken(s, e1+1)
	// With a namespace the key spans it too: the same pod name may run in
	// two namespaces.
	var pod, ctr string
	end := e2
	// Colour vouches for the names only when it was stern's, i.e. stern is
	// the first layer under the stripped escapes.
	coloured := p.coloured && p.env.N == 1
	switch {
	case e2 < len(s) && dnsLabel(t1) && podName(t2, coloured):
		t3, e3 := nextToken(s, e2+1)
		if !dnsLabel(t3) {
			return s, false
		}
		pod, ctr, end = t2, t3, e3
	case podName(t1, coloured) && dnsLabel(t2):
		pod, ctr = t1, t2
	default:
		return s, false
	}
	inner := ""
	if end < len(s) {
		inner = s[end+1:]
	}
	if !p.env.push(Stern) {
		return s, false
	}
	p.env.Program = ctr
	p.env.Container = pod + "/" + ctr
	p.keyAt(s, 0, end)
	return inner, true
}

// k9sLine reads a line copied from a k9s log pane: "│ msg    │", padded to
// the pane's width.
func k9sLine(p *peel, s string) (string, bool) {
	const bar = "│"
	if !strings.HasPrefix(s, bar) || !p.env.push(K9s) {
		return s, false
	}
	inner := strings.TrimPrefix(s[len(bar):], " ")
	inner = strings.TrimRight(inner, " ")
	inner = strings.TrimSuffix(inner, bar)
	inner = strings.TrimRight(inner, " ")
	p.rebase(inner)
	return inner, true
}
