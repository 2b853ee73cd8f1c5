package match

import (
	"maps"
	"slices"
	"strings"

	"github.com/sigtail/sigtail/pkg/catalog"
	"github.com/sigtail/sigtail/pkg/parse"
)

// eventKeys are the names a rule may group or template on besides a
// signature's captures: what every event carries.
var eventKeys = map[string]bool{"pid": true, "source": true, "level": true, "host": true, "count": true}

// checkRules reports rule references that only compiled patterns can check:
// group_by and summary names must be captures of the rule's signatures, a
// field of their formats or an event key.
func checkRules(cat *catalog.Catalog, set *Set, errs *catalog.ErrorList) {
	for _, r := range cat.Rules {
		known := map[string]bool{}
		if r.Kind == catalog.KindRatio {
			known["share"], known["requests"] = true, true // filled by the engine
		}
		for _, sid := range r.Signatures {
			sig, ok := set.byID[sid]
			if !ok {
				continue // reported by catalog.Load, or a compile error
			}
			for _, n := range sig.Names {
				known[n] = true
			}
			for _, f := range sig.Spec.Formats {
				for _, n := range parse.FieldNames(parse.Format(f)) {
					known[n] = true
				}
			}
		}
		for _, g := range r.GroupBy {
			if !known[g] && !eventKeys[g] {
				errs.AddHint(r.Pos, r.ID, "Names known here: "+strings.Join(slices.Sorted(maps.Keys(known)), ", "),
					"group_by %q is not a capture or field of the rule's signatures", g)
			}
		}
		for _, name := range r.SummaryNames {
			if !known[name] && !eventKeys[name] {
				errs.Add(r.Pos, r.ID, "summary names {%s}, which is not a capture or field of the rule's signatures", name)
			}
		}
	}
}

// CheckSamples runs every signature's samples through the real parser of
// their format and the whole compiled set, so a sample checks the parser,
// the prefilter and the pattern together. Every failure is reported.
func CheckSamples(set *Set) error {
	var errs catalog.ErrorList
	m := NewMatcher(set)
	var hits []Hit
	for _, sig := range set.Signatures {
		spec := sig.Spec
		for _, smp := range spec.Samples.Match {
			ev, ok := parseSample(spec, smp)
			if !ok {
				errs.Add(smp.Pos, spec.ID, "sample does not parse as %s: %q", sampleFormat(spec, smp), smp.Line)
				continue
			}
			hits = m.Match(&ev, hits[:0])
			h := findHit(hits, sig)
			if h == nil {
				errs.AddHint(smp.Pos, spec.ID, "The pattern sees the "+sig.Field+" field: "+quoteField(&ev, sig.Field),
					"sample does not match: %q", smp.Line)
				continue
			}
			for name, want := range smp.Captures {
				got, ok := h.Get(name)
				if !ok && sig.Spec.Pattern == "" {
					got, ok = ev.Get(name) // a numeric signature's value is its field
				}
				switch {
				case !ok:
					errs.Add(smp.Pos, spec.ID, "sample captures no %q (want %q)", name, want)
				case got != want:
					errs.Add(smp.Pos, spec.ID, "sample captures %s=%q, want %q", name, got, want)
				}
			}
		}
		for _, smp := range spec.Samples.NoMatch {
			ev, ok := parseSample(spec, smp)
			if !ok {
				continue // a line its format rejects cannot match
			}
			hits = m.Match(&ev, hits[:0])
			if findHit(hits, sig) != nil {
				errs.Add(smp.Pos, spec.ID, "no_match sample matches: %q", smp.Line)
			}
		}
	}
	return errs.Err()
}

func sampleFormat(spec *catalog.SignatureSpec, smp catalog.Sample) parse.Format {
	if smp.Format != "" {
		return parse.Format(smp.Format)
	}
	if len(spec.Formats) > 0 {
		return parse.Format(spec.Formats[0])
	}
	return parse.FormatUnknown
}

func parseSample(spec *catalog.SignatureSpec, smp catalog.Sample) (parse.Event, bool) {
	var ev parse.Event
	p := parse.For(sampleFormat(spec, smp))
	if p == nil {
		return ev, false
	}
	ok := p.Parse(strings.TrimRight(smp.Line, "\n"), &parse.Context{}, &ev)
	return ev, ok
}

func findHit(hits []Hit, sig *Signature) *Hit {
	for i := range hits {
		if hits[i].Signature == sig {
			return &hits[i]
		}
	}
	return nil
}

func quoteField(ev *parse.Event, field string) string {
	v, ok := ev.Get(field)
	if !ok {
		return "(absent)"
	}
	const max = 200
	if len(v) > max {
		v = v[:max] + "..."
	}
	return strings.ReplaceAll(v, "\n", `\n`)
}
