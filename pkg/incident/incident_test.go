package incident

import (
	"encoding/json"
	"testing"
)

func TestSeverity(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Severity
		ok   bool
	}{
		{"info", SeverityInfo, true}, {"warning", SeverityWarning, true}, {"critical", SeverityCritical, true},
		{"", SeverityNone, false}, {"Critical", SeverityNone, false}, {"error", SeverityNone, false},
	} {
		got, err := ParseSeverity(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("ParseSeverity(%q) = %v, %v", tt.in, got, err)
		}
	}
	if !(SeverityInfo < SeverityWarning && SeverityWarning < SeverityCritical) {
		t.Error("severities are not ordered")
	}
	b, _ := json.Marshal(struct{ S Severity }{SeverityWarning})
	if string(b) != `{"S":"warning"}` {
		t.Errorf("JSON %s", b)
	}
	var back struct{ S Severity }
	if err := json.Unmarshal(b, &back); err != nil || back.S != SeverityWarning {
		t.Errorf("round trip: %v %v", back.S, err)
	}
	if err := json.Unmarshal([]byte(`{"S":"bad"}`), &back); err == nil {
		t.Error("unmarshal of an unknown severity succeeded")
	}
}
