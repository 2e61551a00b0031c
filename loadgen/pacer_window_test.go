package loadgen

import (
	"testing"
	"time"
)

// A gapPacer keeps only a window of recent arrivals, yet answers any hit
// number, in any order, with the same schedule: a run of millions of
// requests holds a few KiB, not 8 bytes per request.
func TestGapPacerWindow(t *testing.T) {
	const n = 5*gapWindow + 17
	for _, arrival := range []string{"poisson", "gamma"} {
		t.Run(arrival, func(t *testing.T) {
			mk := func() *gapPacer {
				p, err := NewPacer(arrival, 100, 2, 7)
				if err != nil {
					t.Fatal(err)
				}
				return p.(*gapPacer)
			}
			// The reference: every arrival, drawn in order by a pacer that
			// never slides (asked for once each, in order, and copied).
			ref := make([]time.Duration, n)
			p := mk()
			for i := range ref {
				ref[i] = p.arrival(uint64(i))
				if len(p.at) > 2*gapWindow {
					t.Fatalf("hit %d: %d arrivals held, want at most %d", i, len(p.at), 2*gapWindow)
				}
			}
			for i := 1; i < n; i++ {
				if ref[i] < ref[i-1] {
					t.Fatalf("arrival %d (%v) before arrival %d (%v)", i, ref[i], i-1, ref[i-1])
				}
			}
			// Any order: backwards over the window, far back, then forward.
			q := mk()
			for _, i := range []int{n - 1, n - 2, n - gapWindow, 3, 0, gapWindow * 2, n - 1, 1} {
				if got := q.arrival(uint64(i)); got != ref[i] {
					t.Fatalf("arrival %d asked out of order = %v, want %v", i, got, ref[i])
				}
			}
		})
	}
}
