package envelope

import "testing"

func BenchmarkTmpGunicorn(b *testing.B) { benchLines(b, plainLines[:1]) }
func BenchmarkTmpAccess(b *testing.B)   { benchLines(b, plainLines[1:2]) }
func BenchmarkTmpError(b *testing.B)    { benchLines(b, plainLines[2:3]) }
func BenchmarkTmpEmpty(b *testing.B)    { benchLines(b, []string{"x"}) }

var sinkInt int

func BenchmarkTmpBaseline(b *testing.B) {
	s := plainLines[0]
	for b.Loop() {
		sinkInt += len(s)
	}
}
func BenchmarkTmpBaselineLoop(b *testing.B) {
	s := plainLines[0]
	for i := 0; b.Loop(); i++ {
		for j := 0; j < 20; j++ {
			sinkInt += int(s[(i+j)%len(s)])
		}
	}
}
