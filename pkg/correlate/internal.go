package correlate

import (
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/sigtail/sigtail/pkg/catalog"
	"github.com/sigtail/sigtail/pkg/incident"
	"github.com/sigtail/sigtail/pkg/match"
	"github.com/sigtail/sigtail/pkg/parse"
)

// What sigtail says of itself goes through the lifecycle of every incident
// (opened, grown, resolved after its cooldown, saved across a restart) as
// records of rules built in here rather than in the catalog.
const (
	// RuleGroupLimit: a rule had more groups open at once than
	// Options.MaxGroups; the oldest were closed early.
	RuleGroupLimit = "sigtail.group_limit"
	// RulePositionsReset: the positions file could not be read; it was moved
	// aside and every log was read from its end.
	RulePositionsReset = "sigtail.positions_reset"
)

var internalRules = []*catalog.Rule{
	{
		ID:         RuleGroupLimit,
		Title:      "sigtail closed incidents early: one rule had too many open at once",
		Summary:    "Rule {rule} had more than {limit} incidents and pending groups at once; the oldest were closed early, {count} time(s)",
		Severity:   incident.SeverityWarning,
		Detectable: true, Count: 1, Cooldown: time.Hour, GroupBy: []string{"rule"},
		Remediation: "A rule grouped by a value that is new on almost every record (a client address, a request id) " +
			"opens a group per value. sigtail keeps at most max_groups per rule and closes the oldest first, so " +
			"memory stays bounded; their incidents are resolved early and a burst spread over closed groups is missed.\n" +
			"1. Check the rule's group_by: group on what identifies the problem (a pid, an upstream), not the request.\n" +
			"2. If the groups are legitimate, raise the limit (correlate max_groups).",
		Diagnostics: []incident.Command{{Command: "sigtail catalog explain RULE", Why: "The rule's group_by, with RULE the rule named in the summary."}},
	},
	{
		ID:         RulePositionsReset,
		Title:      "sigtail could not read its positions file: logs were read from their end",
		Summary:    "The positions file {path} could not be read ({error}); it was moved to {moved} and every log was followed from its end: lines written while sigtail was stopped were not read",
		Severity:   incident.SeverityWarning,
		Detectable: true, Count: 1, Cooldown: time.Hour,
		Remediation: "What the logs said while sigtail was stopped was not read. Scan that period once " +
			"(sigtail scan with the logs and their rotations), then look at the moved file to see why it " +
			"could not be read (a full disk when it was written, a manual edit).",
		Diagnostics: []incident.Command{{Command: "df -h /var/lib/sigtail", Why: "A full disk is the usual cause of a file cut short."}},
	},
}

// Note records what sigtail says of itself as a record of one of its
// internal rules (RuleGroupLimit, RulePositionsReset), dated at (zero: the
// engine's time; a later time does not move the engine's clock): it raises
// or grows that rule's incident.
func (e *Engine) Note(rule string, at time.Time, text string, captures map[string]string, emit Emit) {
	rt := e.rules[rule]
	if rt == nil {
		return
	}
	if at.IsZero() || at.Before(e.now) {
		at = e.now
	}
	ev := parse.Event{Time: at, Source: "sigtail", Raw: text, Message: text}
	h := match.Hit{Signature: &match.Signature{ID: rule}}
	for _, k := range slices.Sorted(maps.Keys(captures)) {
		h.Captures = append(h.Captures, match.Capture{Name: k, Value: captures[k]})
	}
	e.seq++
	e.apply(rt, &ev, []*match.Hit{&h}, at, e.seq, emit)
}

// limitGroups closes the oldest tenth of rt's groups once it has
// MaxGroups: their incidents are resolved, their pending records
// forgotten, and the limit is said (RuleGroupLimit).
func (e *Engine) limitGroups(rt *ruleRT, emit Emit) {
	if len(rt.states) < e.opts.MaxGroups || rt.rule.ID == RuleGroupLimit {
		return
	}
	type aged struct {
		st *state
		at time.Time
	}
	all := make([]aged, 0, len(rt.states))
	for _, st := range rt.states {
		all = append(all, aged{st, st.activity()})
	}
	slices.SortFunc(all, func(a, b aged) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return compareKeys(a.st.key, b.st.key)
	})
	n := max(1, e.opts.MaxGroups/10)
	for _, a := range all[:n] {
		if a.st.inc != nil {
			e.resolve(a.st, emit)
		}
		e.drop(a.st)
	}
	if e.opts.Closed != nil {
		e.opts.Closed(rt.rule.ID, n)
	}
	e.Note(RuleGroupLimit, time.Time{}, "rule "+rt.rule.ID+": "+strconv.Itoa(n)+" groups closed early", map[string]string{
		"rule": rt.rule.ID, "limit": strconv.Itoa(e.opts.MaxGroups), "closed": strconv.Itoa(n)}, emit)
}

// activity is the latest time a state was fed.
func (st *state) activity() time.Time {
	if st.inc != nil {
		return st.lastAt
	}
	return st.cond.latest()
}

func compareKeys(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
