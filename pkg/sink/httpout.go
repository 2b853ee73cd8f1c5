package sink

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Auth is how an HTTP output proves who it is: basic auth, a bearer token,
// or nothing. The secrets come from files or the environment (cmd reads
// them), never from a command-line flag, where ps would show them.
type Auth struct {
	Username, Password string
	BearerToken        string
}

// HTTPOptions are what the HTTP outputs share.
type HTTPOptions struct {
	// URL is the endpoint; required, http or https.
	URL  string
	Auth Auth
	// Header is sent with every request (not secrets: those go in Auth).
	Header http.Header
	// Client sends the requests (default: a client with no timeout of its
	// own; Timeout bounds each attempt).
	Client  *http.Client
	Timeout time.Duration
	// UserAgent defaults to "sigtail".
	UserAgent string
}

// httpTarget posts to one endpoint and sorts the answer into delivered,
// worth retrying (network errors, 429, 5xx, with Retry-After) and refused
// for good (other statuses).
type httpTarget struct {
	opt HTTPOptions
	now func() time.Time
}

func newHTTPTarget(opt HTTPOptions, now func() time.Time) (*httpTarget, error) {
	u, err := url.Parse(opt.URL)
	if err != nil {
		return nil, fmt.Errorf("URL %q: %w", opt.URL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("URL %q: want http:// or https:// and a host", opt.URL)
	}
	if opt.Auth.BearerToken != "" && (opt.Auth.Username != "" || opt.Auth.Password != "") {
		return nil, fmt.Errorf("URL %s: basic auth and a bearer token are exclusive", redact(u))
	}
	if opt.Client == nil {
		opt.Client = &http.Client{}
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 10 * time.Second
	}
	if opt.UserAgent == "" {
		opt.UserAgent = "sigtail"
	}
	opt.URL = u.String()
	return &httpTarget{opt: opt, now: now}, nil
}

// redact drops a password written into a URL, for messages.
func redact(u *url.URL) string { return u.Redacted() }

// post sends body; what names the payload for errors ("push of 3
// incidents").
func (h *httpTarget) post(ctx context.Context, what string, body []byte, header http.Header) error {
	ctx, cancel := context.WithTimeout(ctx, h.opt.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.opt.URL, bytes.NewReader(body))
	if err != nil {
		return &deliveryError{err: fmt.Errorf("%s to %s: %w", what, h.target(), err), reason: "request", permanent: true}
	}
	for k, vs := range h.opt.Header {
		req.Header[k] = vs
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("User-Agent", h.opt.UserAgent)
	switch a := h.opt.Auth; {
	case a.BearerToken != "":
		req.Header.Set("Authorization", "Bearer "+a.BearerToken)
	case a.Username != "" || a.Password != "":
		req.SetBasicAuth(a.Username, a.Password)
	}
	resp, err := h.opt.Client.Do(req)
	if err != nil {
		return &deliveryError{err: fmt.Errorf("%s to %s: %w", what, h.target(), err), reason: "network"}
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 == 2 {
		return nil
	}
	err = fmt.Errorf("%s to %s: %s: %s", what, h.target(), resp.Status, strings.TrimSpace(string(msg)))
	de := &deliveryError{err: err, reason: "http_" + strconv.Itoa(resp.StatusCode), status: resp.StatusCode}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode/100 == 5:
		de.retryAfter = retryAfter(resp.Header.Get("Retry-After"), h.now())
	case resp.StatusCode == http.StatusRequestTimeout:
		// A timeout reading the request is worth another try too.
	default:
		de.permanent = true
	}
	return de
}

func (h *httpTarget) target() string {
	u, err := url.Parse(h.opt.URL)
	if err != nil {
		return "(bad URL)"
	}
	return redact(u)
}

// retryAfter reads a Retry-After header: seconds or an HTTP date; zero
// when absent or not understood.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		return min(time.Duration(n)*time.Second, maxRetryAfter)
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), maxRetryAfter)
	}
	return 0
}

// checkLabels refuses label names Loki and Alertmanager would refuse, and
// those sigtail sets itself.
func checkLabels(output string, labels map[string]string, reserved map[string]bool) error {
	for k := range labels {
		if !validLabelName(k) {
			return fmt.Errorf("output %s: label name %q is not valid (want [a-zA-Z_][a-zA-Z0-9_]*)", output, k)
		}
		if reserved[k] {
			return fmt.Errorf("output %s: label %q is set by sigtail", output, k)
		}
	}
	return nil
}

// newHTTPSpooled makes what every HTTP output is built on: the target it
// posts to and the spool it delivers from (now nil: the wall clock).
func newHTTPSpooled(name string, h HTTPOptions, d DeliveryOptions, now func() time.Time) (*httpTarget, *spooled, error) {
	if now == nil {
		now = time.Now
	}
	t, err := newHTTPTarget(h, now)
	if err != nil {
		return nil, nil, fmt.Errorf("output %s: %w", name, err)
	}
	q, err := newSpooled(d)
	if err != nil {
		return nil, nil, err
	}
	return t, q, nil
}
