package harness

import (
	"strings"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/loadgen"
	"github.com/streamgauge/streamgauge/profiles"
)

// TestCheckStartAt: a start-at more than a second in the past is refused,
// saying how late it is and what to do; a start within the second (clocks
// and start-up) or in the future is taken.
func TestCheckStartAt(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		startAt string
		want    []string // substrings of the error; none = accepted
	}{
		{"not set", "", nil},
		{"in the future", "2026-12-02T12:00:30Z", nil},
		{"now", "2026-12-02T12:00:00Z", nil},
		{"half a second ago", "2026-12-02T11:59:59.5Z", nil},
		{"a second ago", "2026-12-02T11:59:59Z", nil},
		{"two seconds ago", "2026-12-02T11:59:58Z", []string{"start-at", "2s in the past", "in the future", "drop --start-at"}},
		{"an hour ago", "2026-12-02T11:00:00Z", []string{"1h0m0s in the past", "now+30s"}},
		{"other zone, five minutes ago", "2026-12-02T12:55:00+01:00", []string{"5m0s in the past"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := checkStartAt(profiles.Profile{StartAt: tc.startAt}, now)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted a start in the past")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q is not one line", err)
			}
		})
	}
}

// TestWarnings: the run's caveats each get one line, and a clean run none.
func TestWarnings(t *testing.T) {
	clean := func() *analysis.Summary {
		return &analysis.Summary{Requests: analysis.Counts{Accounted: true}, Metrics: map[string]analysis.Stats{}}
	}
	clamped := clean()
	clamped.Clamped = 3
	clamped.Metrics["lag"] = analysis.Stats{Count: 5, Clamped: 2}
	clamped.Metrics["e2e"] = analysis.Stats{Count: 5, Clamped: 1}
	tests := []struct {
		name  string
		sum   *analysis.Summary
		stats loadgen.Stats
		want  []string // one substring per expected line
	}{
		{"clean", clean(), loadgen.Stats{}, nil},
		{"clamped", clamped, loadgen.Stats{}, []string{"3 values outside the histograms' range (0 to 1 h) recorded at its edge (lag 2, e2e 1)"}},
		{"abandoned", clean(), loadgen.Stats{Abandoned: 1}, []string{"1 request did not end when canceled"}},
		{"unwritten", clean(), loadgen.Stats{Unwritten: 2}, []string{"2 records still being written"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := warnings(tc.sum, &tc.stats)
			if len(got) != len(tc.want) {
				t.Fatalf("warnings %q, want %d", got, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("warning %q, want %q", got[i], w)
				}
			}
		})
	}
}
