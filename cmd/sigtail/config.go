package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/sigtail/sigtail/pkg/parse"
)

// runConfig is the daemon's configuration file (YAML). Flags override it.
type runConfig struct {
	Files []struct {
		Path   string `yaml:"path"`
		Format string `yaml:"format"`
	} `yaml:"files"`
	Catalog           string `yaml:"catalog"`
	Positions         string `yaml:"positions"`
	Listen            string `yaml:"listen"`
	Timezone          string `yaml:"timezone"`
	Host              string `yaml:"host"`
	NginxAccessFormat string `yaml:"nginx_access_format"`
	FromStart         bool   `yaml:"from_start"`
	// MaxGroups caps the incidents and pending groups one rule keeps.
	MaxGroups int `yaml:"max_groups"`
	// Probe turns the process-table probe off with false; ProbeInterval
	// is how often it samples.
	Probe         *bool         `yaml:"probe"`
	ProbeInterval time.Duration `yaml:"probe_interval"`
	Kernel        *bool         `yaml:"kernel"`
	Units         []string      `yaml:"units"`
	// Outputs are where incidents go, in order (default: stdout).
	Outputs []outputConfig `yaml:"outputs"`
	// SpoolDir holds the spools of outputs that name none
	// (default /var/lib/sigtail/spool).
	SpoolDir string `yaml:"spool_dir"`
}

// configError is every problem of a config file, each as
// file:line:col: key: message, in the order of the file.
type configError struct {
	path     string
	problems []configProblem
	// onPath are the alias targets being checked, against an alias that
	// contains itself.
	onPath map[*yaml.Node]bool
	// visits counts the values checked: aliases can make a small file
	// expand to billions (yaml.v3 refuses that when decoding; the check
	// stops at maxVisits).
	visits int
}

const maxVisits = 100_000

type configProblem struct {
	line, col int
	key       string // the key's path in YAML terms: outputs[1].url
	msg       string
}

// Error is every problem, one per line.
func (e *configError) Error() string {
	return strings.Join(e.lines(), "\n")
}

func (e *configError) lines() []string {
	var out []string
	for _, p := range e.problems {
		l := fmt.Sprintf("%s:%d:%d: ", e.path, p.line, p.col)
		if p.key != "" {
			l += p.key + ": "
		}
		out = append(out, l+p.msg)
	}
	return out
}

func (e *configError) add(n *yaml.Node, key, format string, a ...any) {
	e.problems = append(e.problems, configProblem{line: n.Line, col: n.Column, key: key, msg: fmt.Sprintf(format, a...)})
}

func loadRunConfig(path string) (*runConfig, error) {
	var c runConfig
	if path == "" {
		return &c, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the config %s: %s", path, describeErr(err))
	}
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(b)).Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return &c, nil // an empty file is no settings
		}
		return nil, fmt.Errorf("config %s: %s", path, yamlSyntax(err))
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	ce := &configError{path: path, onPath: map[*yaml.Node]bool{}}
	checkNode(root, reflect.TypeOf(c), "", ce)
	if len(ce.problems) == 0 {
		if err := root.Decode(&c); err != nil {
			// checkNode knows every key and type; this is what it missed.
			return nil, fmt.Errorf("config %s: %s", path, yamlSyntax(err))
		}
		for i, f := range c.Files {
			n := nodeAt(root, "files", i)
			if f.Path == "" {
				ce.add(n, fmt.Sprintf("files[%d]", i), "has no path (want path: /var/log/app/error.log, or a glob)")
			}
			if f.Format != "" && !parse.Format(f.Format).Valid() {
				ce.add(valueAt(n, "format"), fmt.Sprintf("files[%d].format", i), "unknown format %q (want one of %s)", f.Format, strings.Join(formatNames(), ", "))
			}
		}
	}
	if len(ce.problems) > 0 {
		slices.SortStableFunc(ce.problems, func(a, b configProblem) int { return a.line - b.line })
		return nil, ce
	}
	return &c, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// yamlSyntax is a YAML parser error for people: "line N: message".
func yamlSyntax(err error) string {
	s := err.Error()
	if m := yamlLine.FindStringSubmatch(s); m != nil {
		return "line " + m[1] + ": " + s[len(m[0]):]
	}
	return strings.TrimPrefix(s, "yaml: ")
}

var (
	durationType  = reflect.TypeOf(time.Duration(0))
	unmarshalType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()
)

// checkNode checks a YAML node against the Go type it decodes into, in YAML
// terms: every key known, every value of the kind its key takes. It is what
// KnownFields(true) does, with the key named and no Go type in the message.
func checkNode(n *yaml.Node, t reflect.Type, key string, ce *configError) {
	if ce.visits++; ce.visits > maxVisits {
		if ce.visits == maxVisits+1 {
			ce.add(n, key, "too many values once its aliases are expanded (more than %d)", maxVisits)
		}
		return
	}
	if n.Kind == yaml.AliasNode {
		at := n
		for n.Kind == yaml.AliasNode && n.Alias != nil {
			n = n.Alias
		}
		if ce.onPath[n] {
			ce.add(at, key, "an alias that contains itself")
			return
		}
		ce.onPath[n] = true
		defer delete(ce.onPath, n)
	}
	if n.Tag == "!!null" {
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshalType) && t.Kind() != reflect.Struct {
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			ce.add(n, key, "%s", stripLine(err.Error()))
		}
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		// A struct with its own decoding (an output: which keys depend on
		// its type) says which keys it takes; the values' kinds are still
		// checked here first, in YAML terms.
		custom := reflect.PointerTo(t).Implements(unmarshalType)
		before := len(ce.problems)
		if n.Kind != yaml.MappingNode {
			if custom {
				decodeCustom(n, t, key, ce)
				return
			}
			ce.add(n, key, "want a mapping of keys (%s), got %s", strings.Join(yamlKeys(t), ", "), describeNode(n))
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			f, ok := fieldByTag(t, k.Value)
			if !ok {
				if !custom {
					ce.add(k, joinKey(key, k.Value), "unknown key (%s)", knownKeys(k.Value, yamlKeys(t)))
				}
				continue
			}
			checkNode(v, f.Type, joinKey(key, k.Value), ce)
		}
		if custom && len(ce.problems) == before {
			decodeCustom(n, t, key, ce)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			ce.add(n, key, "want a list (one item per line, each starting with -), got %s", describeNode(n))
			return
		}
		for i, item := range n.Content {
			checkNode(item, t.Elem(), fmt.Sprintf("%s[%d]", key, i), ce)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			ce.add(n, key, "want a mapping of names to values, got %s", describeNode(n))
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			checkNode(n.Content[i+1], t.Elem(), joinKey(key, n.Content[i].Value), ce)
		}
	default:
		if n.Kind != yaml.ScalarNode {
			ce.add(n, key, "want %s, got %s", describeType(t), describeNode(n))
			return
		}
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			ce.add(n, key, "want %s, got %q", describeType(t), n.Value)
		}
	}
}

// decodeCustom decodes n with t's own UnmarshalYAML and reports its error
// at the line it names.
func decodeCustom(n *yaml.Node, t reflect.Type, key string, ce *configError) {
	err := n.Decode(reflect.New(t).Interface())
	if err == nil {
		return
	}
	at := n
	if m := lineN.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[2])
		for _, c := range n.Content {
			if c.Line == line {
				at = c
				break
			}
		}
	}
	ce.add(at, key, "%s", stripLine(err.Error()))
}

var lineN = regexp.MustCompile(`(^|: )line (\d+): `)

// stripLine drops "line N:" from a message the position already says.
func stripLine(s string) string {
	s = strings.TrimPrefix(s, "yaml: unmarshal errors:\n")
	return strings.TrimSpace(lineN.ReplaceAllString(s, "$1"))
}

// knownKeys says which keys are known where an unknown one was written:
// the one meant, when a known key is a typo away, else all of them.
func knownKeys(got string, known []string) string {
	if k, ok := closestKey(got, known); ok {
		return "did you mean " + k + "?"
	}
	return "known here: " + strings.Join(known, ", ")
}

// closestKey is the known key at most two edits from got, if any.
func closestKey(got string, known []string) (string, bool) {
	best, bestD := "", 3
	for _, k := range known {
		if d := editDistance(got, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best, best != ""
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func joinKey(parent, k string) string {
	if parent == "" {
		return k
	}
	return parent + "." + k
}

func fieldByTag(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); tag == name && f.IsExported() {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func yamlKeys(t reflect.Type) []string {
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); tag != "" && tag != "-" {
			keys = append(keys, tag)
		}
	}
	return keys
}

func describeType(t reflect.Type) string {
	if t == durationType {
		return "a duration such as 10s, 5m or 1h30m"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	}
	return "a " + t.Kind().String()
}

func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return strconv.Quote(n.Value)
}

// nodeAt is the i-th item of the list under key in mapping n (n itself
// when it is not there, so a problem still has a position).
func nodeAt(n *yaml.Node, key string, i int) *yaml.Node {
	v := valueAt(n, key)
	if v.Kind == yaml.SequenceNode && i < len(v.Content) {
		return v.Content[i]
	}
	return v
}

// valueAt is the value of key in mapping n, or n.
func valueAt(n *yaml.Node, key string) *yaml.Node {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				return n.Content[i+1]
			}
		}
	}
	return n
}
