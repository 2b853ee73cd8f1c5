// Package incident is the model every stage after matching speaks: what
// sigtail tells a person about one problem on one host.
//
// The JSON encoding of Incident is the stable, documented output schema
// (README "Incident schema"); change field names only with a major version.
package incident

import (
	"fmt"
	"time"
)

// Severity ranks how urgently a person must act.
type Severity int

// Severities in increasing order; the zero value is no severity.
const (
	SeverityNone Severity = iota
	SeverityInfo
	SeverityWarning
	SeverityCritical
)

var severityNames = [...]string{"", "info", "warning", "critical"}

func (s Severity) String() string {
	if s < 0 || int(s) >= len(severityNames) {
		return fmt.Sprintf("severity(%d)", int(s))
	}
	return severityNames[s]
}

// ParseSeverity parses "info", "warning" or "critical".
func ParseSeverity(s string) (Severity, error) {
	for i, n := range severityNames {
		if i > 0 && n == s {
			return Severity(i), nil
		}
	}
	return SeverityNone, fmt.Errorf("unknown severity %q (want info, warning or critical)", s)
}

// MarshalText encodes the severity by name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes a severity name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Status is where an incident is in its life.
type Status string

// The statuses an incident goes through: open when first raised, updated
// while more evidence arrives, resolved after a quiet period, or superseded
// when a later record explained it and another incident (SupersededBy) took
// its evidence over. Superseded, like resolved, is final.
const (
	StatusOpen       Status = "open"
	StatusUpdated    Status = "updated"
	StatusResolved   Status = "resolved"
	StatusSuperseded Status = "superseded"
)

// Final reports whether the status ends the incident's life.
func (s Status) Final() bool { return s == StatusResolved || s == StatusSuperseded }

// Evidence is one log record that contributed to an incident.
type Evidence struct {
	Time      time.Time `json:"time,omitzero"`
	Source    string    `json:"source"`
	Offset    int64     `json:"offset"`
	LineNo    int64     `json:"line_number,omitempty"`
	Signature string    `json:"signature"`
	Line      string    `json:"line"`
}

// Parameter is a configuration setting a rule recommends.
type Parameter struct {
	Name  string `json:"name"`
	Value string `json:"value,omitempty"`
	Why   string `json:"why,omitempty"`
}

// Command is a diagnostic or remediation command with why to run it.
type Command struct {
	Command string `json:"command"`
	Why     string `json:"why,omitempty"`
}

// Incident is one problem, with what was seen and what to do.
type Incident struct {
	ID       string   `json:"id"`
	Rule     string   `json:"rule"`
	Title    string   `json:"title"`
	Summary  string   `json:"summary"`
	Severity Severity `json:"severity"`
	Status   Status   `json:"status"`
	// SupersededBy is the id of the incident that took this one over
	// (status superseded).
	SupersededBy string    `json:"superseded_by,omitempty"`
	FirstSeen    time.Time `json:"first_seen,omitzero"`
	LastSeen     time.Time `json:"last_seen,omitzero"`
	// Count is how many matching records the incident stands for, all of
	// them, not only those kept as Evidence.
	Count   int      `json:"count"`
	Host    string   `json:"host,omitempty"`
	Sources []string `json:"sources"`
	// Fields holds the first value seen of each capture or field; Values
	// lists every distinct value (capped) of those that had more than one.
	// A value is never split or joined on a comma.
	Fields map[string]string   `json:"fields,omitempty"`
	Values map[string][]string `json:"values,omitempty"`
	// Evidence holds the first records seen, capped; EvidenceDropped
	// counts the ones not kept.
	Evidence        []Evidence  `json:"evidence"`
	EvidenceDropped int         `json:"evidence_dropped,omitempty"`
	Remediation     string      `json:"remediation,omitempty"`
	Diagnostics     []Command   `json:"diagnostics,omitempty"`
	Parameters      []Parameter `json:"parameters,omitempty"`
	Insights        []string    `json:"insights,omitempty"`
	// Related are the other rules whose records this incident took in
	// (their insights are in Insights): one problem, one incident.
	Related    []string `json:"related,omitempty"`
	References []string `json:"references,omitempty"`
}
