package scan

import (
	"slices"
	"testing"
)

func TestGroupRotations(t *testing.T) {
	tests := []struct {
		in   []string
		want [][]string
	}{
		{[]string{"error.log"}, [][]string{{"error.log"}}},
		// A shell glob's order: the live file first. Read oldest first.
		{[]string{"/var/log/g/error.log", "/var/log/g/error.log.1", "/var/log/g/error.log.10.gz", "/var/log/g/error.log.2.gz"},
			[][]string{{"/var/log/g/error.log.10.gz", "/var/log/g/error.log.2.gz", "/var/log/g/error.log.1", "/var/log/g/error.log"}}},
		{[]string{"access.log-20261125.gz", "access.log", "access.log-20261124.gz"},
			[][]string{{"access.log-20261124.gz", "access.log-20261125.gz", "access.log"}}},
		// Different logs stay apart, in the order given.
		{[]string{"kern.log", "error.log.1", "error.log", "kern.log.1"},
			[][]string{{"kern.log.1", "kern.log"}, {"error.log.1", "error.log"}}},
		// The same file twice is read once; stdin is its own stream.
		{[]string{"error.log", "./error.log", "-"}, [][]string{{"error.log"}, {"-"}}},
		// Rotated pieces without the live file still group.
		{[]string{"error.log.1", "error.log.3.gz", "error.log.2.gz"}, [][]string{{"error.log.3.gz", "error.log.2.gz", "error.log.1"}}},
	}
	for _, tt := range tests {
		var got [][]string
		for _, st := range groupRotations(tt.in) {
			var names []string
			for _, i := range st.files {
				names = append(names, tt.in[i])
			}
			got = append(got, names)
		}
		if !slices.EqualFunc(got, tt.want, slices.Equal) {
			t.Errorf("groupRotations(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
