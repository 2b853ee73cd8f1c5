package catalog

// The types in this file are the catalog as written in YAML. They are
// decoded strictly (unknown keys are errors) and validated by Load; what
// runs is built from them by Load (durations, severities) and by package
// match (regexes). Every spec remembers where it was written so that any
// later stage can report a problem at its file, line and column.

// SignatureFile is one signatures/*.yaml file.
type SignatureFile struct {
	Signatures []SignatureSpec `yaml:"signatures"`
}

// SignatureSpec is one line-level failure signature as written.
type SignatureSpec struct {
	// ID is stable and dotted, technology first: gunicorn.worker_timeout.
	ID          string `yaml:"id"`
	Description string `yaml:"description"`
	// Formats are the parse formats whose events this signature applies to.
	Formats []string `yaml:"formats"`
	// Field is the event field the pattern applies to; "message" when empty.
	Field string `yaml:"field"`
	// Pattern is a regular expression with named captures ((?P<pid>\d+)).
	// It is compiled with Go's RE2 regexp when it can be, else with regexp2.
	Pattern string `yaml:"pattern"`
	// AtLeast, when set, makes the signature numeric: the field, read as a
	// decimal number, must be at least this value (a request time in
	// seconds, a status code...). The value is captured under the field's
	// name. Pattern may then be empty.
	AtLeast *float64 `yaml:"at_least"`
	// AtMost bounds the number from above, like AtLeast from below; with
	// both, the value must lie between them (an "exactly 60 s" hang).
	AtMost *float64 `yaml:"at_most"`
	// Where holds further field → pattern conditions that must all match.
	// An absent field is tested as the empty string, so '^(0)?$' on
	// facility accepts kernel records and records that carry no facility.
	Where map[string]string `yaml:"where"`
	// Text says whether the signature also applies to records of no known
	// format (a pasted fragment, an app's output between Gunicorn's
	// records, a line of a layout no parser reads), where the pattern sees
	// the whole text, or what follows a "[LEVEL] " in it. Unset means yes
	// for a pattern on the message with no `where`, which needs nothing a
	// parser would have found; false keeps a signature to its formats.
	Text *bool `yaml:"text"`
	// Require overrides the literal prefilter: substrings of which at least
	// one must occur in the field for the pattern to be tried. Computed from
	// Pattern when empty.
	Require []string `yaml:"require"`
	// Covers lists, verbatim, the error signatures of the knowledge page
	// (testdata/knowledge) this signature recognises.
	Covers []string `yaml:"covers"`
	// Versions says which versions print the forms this signature covers.
	Versions string  `yaml:"versions"`
	Samples  Samples `yaml:"samples"`

	Pos Pos `yaml:"-"`
}

// Samples are lines a signature must and must not match; Load's caller
// (package match) checks them through the real parser of their format.
type Samples struct {
	Match   []Sample `yaml:"match"`
	NoMatch []Sample `yaml:"no_match"`
}

// Sample is one log record (several physical lines for a traceback).
type Sample struct {
	Line string `yaml:"line"`
	// Format of the line; the signature's first format when empty.
	Format string `yaml:"format"`
	// Captures, when given, must equal what the pattern captures.
	Captures map[string]string `yaml:"captures"`

	Pos Pos `yaml:"-"`
}

// RuleFile is rules.yaml.
type RuleFile struct {
	Rules []RuleSpec `yaml:"rules"`
}

// RuleSpec is one insight as written: when it fires and what to tell.
type RuleSpec struct {
	ID    string `yaml:"id"`
	Title string `yaml:"title"`
	// Summary is a one-line template; {name} is replaced by the capture or
	// field of that name, {count} by the incident's count.
	Summary  string `yaml:"summary"`
	Severity string `yaml:"severity"`
	// Insights are the knowledge page's insight titles this rule stands for.
	Insights []string `yaml:"insights"`
	// Detectable false marks an insight that sigtail cannot see from
	// what it reads; Reason says why. Such a rule has no When.
	Detectable *bool  `yaml:"detectable"`
	Reason     string `yaml:"reason"`
	When       *When  `yaml:"when"`
	// GroupBy names captures that split incidents: one incident per
	// distinct value (per upstream, per pid...).
	GroupBy []string `yaml:"group_by"`
	// Cooldown is how long without a new hit before the incident is
	// resolved; a later hit opens a new one. Default 5m.
	Cooldown string `yaml:"cooldown"`
	// YieldTo lists the rules whose open incidents take this rule's hits.
	YieldTo     []YieldSpec     `yaml:"yield_to"`
	Remediation string          `yaml:"remediation"`
	Diagnostics []CommandSpec   `yaml:"diagnostics"`
	Parameters  []ParameterSpec `yaml:"parameters"`
	References  []string        `yaml:"references"`

	Pos Pos `yaml:"-"`
	// SummaryPos and RemediationPos are where the first line of each text
	// is, so that a problem in the text is reported at its own line.
	SummaryPos     Pos `yaml:"-"`
	RemediationPos Pos `yaml:"-"`
}

// When says which hits raise the rule. It is one of four kinds, told apart
// by the keys present:
//
//   - hits:     signatures, and optionally count within window;
//   - sequence: steps (each a list of signatures) seen within `within`,
//     joined on the `join` captures, in order unless ordered: false;
//   - absence:  signatures not followed by not_followed_by within `within`
//     (joined on `join`);
//   - ratio:    of the hits of signatures in window (at least min_count),
//     the share that are also hits of ratio.of reaches ratio.at_least.
type When struct {
	Signatures []string `yaml:"signatures"`
	Count      int      `yaml:"count"`
	Window     string   `yaml:"window"`

	Sequence []Step `yaml:"sequence"`
	// Unless lists signatures whose hit, once a sequence has begun, voids
	// the steps seen before it: a record that proves the rule's premise
	// false (a request answered between a worker's boot and its timeout:
	// the worker did boot).
	Unless []string `yaml:"unless"`
	// Distinct names captures whose values must differ between the steps
	// (two masters: two master_pids).
	Distinct []string `yaml:"distinct"`
	Ordered  *bool    `yaml:"ordered"`
	Within   string   `yaml:"within"`
	Join     []string `yaml:"join"`

	NotFollowedBy []string `yaml:"not_followed_by"`
	// AtEnd says what an absence still waiting when a scan's input ends
	// is: "info" (default: raised as info, saying how long the logs went
	// on), "raise" (raised at the rule's severity: the record alone proves
	// the failure) or "nothing".
	AtEnd string `yaml:"at_end"`

	Ratio    *RatioSpec `yaml:"ratio"`
	MinCount int        `yaml:"min_count"`

	Pos Pos `yaml:"-"`
}

// Step is one step of a sequence: a hit of any of its signatures.
type Step struct {
	Signatures []string `yaml:"signatures"`
}

// RatioSpec is the numerator of a ratio rule.
type RatioSpec struct {
	Of      []string `yaml:"of"`
	AtLeast float64  `yaml:"at_least"`
}

// YieldSpec says that a rule's hit belongs to an incident of another rule
// when that incident is open within `within` of the hit (and, with join,
// carries the same values): the hit is then added to that incident instead
// of raising one of its own. This is how one problem seen in several logs
// is one incident.
type YieldSpec struct {
	Rule   string   `yaml:"rule"`
	Within string   `yaml:"within"`
	Join   []string `yaml:"join"`
}

// CommandSpec is a diagnostic: a read-only shell command line, runnable as
// shown, that may name the incident's values as {name} (see FillCommand).
type CommandSpec struct {
	Command string `yaml:"command"`
	Why     string `yaml:"why"`

	Pos Pos `yaml:"-"`
}

// ParameterSpec is a configuration parameter a rule recommends: a Gunicorn
// setting (as gunicorn.conf.py or the command line spells it), an nginx
// directive, a systemd unit setting or a sysctl, with the one value the
// catalog recommends for it.
type ParameterSpec struct {
	Name  string `yaml:"name"`
	Value string `yaml:"value"`
	Why   string `yaml:"why"`

	Pos Pos `yaml:"-"`
}
