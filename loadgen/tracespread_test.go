package loadgen_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/loadgen"
)

// slotted is a trace recorded to slots of width slot: counts[k] arrivals
// at k·slot.
func slotted(format string, slot time.Duration, counts ...int) *loadgen.Trace {
	t := &loadgen.Trace{Format: format}
	for k, n := range counts {
		for range n {
			t.Entries = append(t.Entries, loadgen.TraceEntry{At: time.Duration(k) * slot, Input: 10, Output: 10})
		}
	}
	return t
}

// paced is the pacer's schedule: the wait it gives for each hit at
// elapsed 0 (the arrival offsets), until it stops.
func paced(t *testing.T, tr *loadgen.Trace) []time.Duration {
	t.Helper()
	p := tr.Pacer()
	var out []time.Duration
	for hits := uint64(0); ; hits++ {
		wait, stop := p.Pace(0, hits)
		if stop {
			return out
		}
		out = append(out, wait)
		if hits > 1e6 {
			t.Fatal("the pacer never stops")
		}
	}
}

// TestTraceSpread (issue 20 item 4): arrivals that share a timestamp
// slot are spread over it (uniformly, or as a Poisson process would place
// them), each slot's arrivals stay in their slot and their order, and the
// schedule is a pure function of the seed.
func TestTraceSpread(t *testing.T) {
	const slot = 3 * time.Second
	tests := []struct {
		name   string
		how    string
		counts []int
		// want is the exact schedule when it does not depend on the seed.
		want []time.Duration
	}{
		{name: "none keeps the recorded slots", how: loadgen.SpreadNone, counts: []int{3, 0, 2},
			want: []time.Duration{0, 0, 0, 6 * time.Second, 6 * time.Second}},
		{name: "uniform", how: loadgen.SpreadUniform, counts: []int{4, 1, 0, 3}},
		{name: "poisson", how: loadgen.SpreadPoisson, counts: []int{5, 2, 7}},
		{name: "uniform, one arrival a slot", how: loadgen.SpreadUniform, counts: []int{1, 1, 1, 1}},
		{name: "poisson, a crowded slot", how: loadgen.SpreadPoisson, counts: []int{200}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := slotted(loadgen.TraceMooncake, slot, tc.counts...)
			sp, err := tr.Spread(tc.how, slot, 42)
			if err != nil {
				t.Fatal(err)
			}
			got := paced(t, sp)
			if tc.want != nil && !slices.Equal(got, tc.want) {
				t.Fatalf("schedule %v, want %v", got, tc.want)
			}
			if len(got) != len(tr.Entries) {
				t.Fatalf("%d arrivals, want %d", len(got), len(tr.Entries))
			}
			if !slices.IsSorted(got) {
				t.Errorf("schedule not in order: %v", got)
			}
			i := 0
			for k, n := range tc.counts {
				start := time.Duration(k) * slot
				for j := range n {
					at := got[i+j]
					if at < start || at >= start+slot {
						t.Errorf("slot %d arrival %d at %s: outside [%s, %s)", k, j, at, start, start+slot)
					}
					if tc.how == loadgen.SpreadUniform && j > 0 {
						if gap := at - got[i+j-1]; (gap - slot/time.Duration(n)).Abs() > time.Microsecond {
							t.Errorf("slot %d: uniform gap %s, want %s", k, gap, slot/time.Duration(n))
						}
					}
				}
				i += n
			}
			again, err := tr.Spread(tc.how, slot, 42)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(paced(t, again), got) {
				t.Error("the same seed gave another schedule")
			}
			other, _ := tr.Spread(tc.how, slot, 43)
			if tc.how != loadgen.SpreadNone && slices.Equal(paced(t, other), got) {
				t.Error("another seed gave the same schedule")
			}
			if tr.Entries[len(tr.Entries)-1].At != time.Duration(len(tc.counts)-1)*slot {
				t.Error("Spread changed the trace it was given")
			}
		})
	}
}

// TestTraceSpreadShardConsistent: a slot's placement depends on the seed,
// the slot and its count only, so a worker that sees more of the trace (or
// another window of it) places every shared slot alike.
func TestTraceSpreadShardConsistent(t *testing.T) {
	const slot = 3 * time.Second
	for _, how := range []string{loadgen.SpreadUniform, loadgen.SpreadPoisson} {
		short, _ := slotted("", slot, 3, 2).Spread(how, slot, 9)
		long, _ := slotted("", slot, 3, 2, 4, 1).Spread(how, slot, 9)
		if a, b := paced(t, short), paced(t, long)[:5]; !slices.Equal(a, b) {
			t.Errorf("%s: the first two slots differ: %v and %v", how, a, b)
		}
	}
}

func TestTraceSlotWidth(t *testing.T) {
	ms := func(v ...float64) *loadgen.Trace {
		tr := &loadgen.Trace{}
		for _, x := range v {
			tr.Entries = append(tr.Entries, loadgen.TraceEntry{At: time.Duration(x * float64(time.Millisecond))})
		}
		return tr
	}
	withFormat := func(tr *loadgen.Trace, f string) *loadgen.Trace { tr.Format = f; return tr }
	tests := []struct {
		name string
		tr   *loadgen.Trace
		want time.Duration
	}{
		{"mooncake 3 s slots", withFormat(ms(0, 0, 3000, 9000), loadgen.TraceMooncake), 3 * time.Second},
		{"mooncake window on 6 s multiples", withFormat(ms(0, 6000, 12000), loadgen.TraceMooncake), 3 * time.Second},
		{"mooncake one timestamp", withFormat(ms(0, 0, 0), loadgen.TraceMooncake), 3 * time.Second},
		{"mooncake-format file with finer stamps", withFormat(ms(0, 250, 1000), loadgen.TraceMooncake), 250 * time.Millisecond},
		{"whole seconds (BurstGPT)", withFormat(ms(0, 1000, 1000, 5000), loadgen.TraceBurstGPT), time.Second},
		{"fine stamps", ms(0, 1.5, 2.7), 0},
		{"one timestamp, format unknown", ms(0, 0), 0},
	}
	for _, tc := range tests {
		if got := tc.tr.SlotWidth(); got != tc.want {
			t.Errorf("%s: slot %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestTraceSpreadErrors(t *testing.T) {
	tr := slotted("", time.Second, 2, 2)
	tests := []struct {
		how  string
		slot time.Duration
		want string
	}{
		{"burst", time.Second, `trace-spread "burst": want none, uniform or poisson`},
		{loadgen.SpreadUniform, 0, "give it with --trace-slot"},
	}
	for _, tc := range tests {
		if _, err := tr.Spread(tc.how, tc.slot, 1); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Spread(%q, %s): %v, want %q", tc.how, tc.slot, err, tc.want)
		}
	}
}
