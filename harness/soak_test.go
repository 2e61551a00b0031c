package harness_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/harness"
	"github.com/streamgauge/streamgauge/profiles"
)

// TestSoak runs a long chaos run against the in-process simulator (errors of
// every kind, stalls, dropped connections) and samples memory along the way:
// the heap must stay flat after warm-up (records go to disk; only histograms
// stay in memory), no goroutine may leak, and every request is accounted for.
// It runs only when STREAMGAUGE_SOAK gives its length: `make soak` runs 10
// minutes, CI one minute.
func TestSoak(t *testing.T) {
	length := os.Getenv("STREAMGAUGE_SOAK")
	if length == "" {
		t.Skip("set STREAMGAUGE_SOAK=10m (make soak) to run the soak test")
	}
	d, err := time.ParseDuration(length)
	if err != nil {
		t.Fatalf("STREAMGAUGE_SOAK=%q: %v", length, err)
	}
	p := profiles.Default()
	p.Name = "soak"
	p.Rate = 40
	p.Duration = d
	p.InputTokens = "uniform:50,400"
	p.OutputTokens = "uniform:16,64"
	p.SimScheduler = "continuous"
	p.SimFailRate = 0.1
	p.SimFailKinds = "429,500,stream,drop"
	p.SimStall = "16:30ms"
	p.IdleTimeout = 5 * time.Second
	p.Out = filepath.Join(t.TempDir(), "run")
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}

	runtime.GC()
	goroutinesBefore := runtime.NumGoroutine()
	interval := max(d/10, 5*time.Second)
	type sample struct {
		at   time.Duration
		heap uint64
		gor  int
	}
	var samples []sample
	stop := make(chan struct{})
	sampled := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(sampled)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				samples = append(samples, sample{time.Since(start).Round(time.Second), ms.HeapAlloc, runtime.NumGoroutine()})
			}
		}
	}()
	res, err := harness.Run(context.Background(), p)
	close(stop)
	<-sampled
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	for _, s := range samples {
		t.Logf("at %s: heap %.1f MiB, %d goroutines", s.at, float64(s.heap)/(1<<20), s.gor)
	}
	q := res.Summary.Requests
	t.Logf("requests %+v, errors %v", q, res.Summary.Errors)
	if !q.Accounted || q.Sent == 0 || q.Sent != q.OK+q.Failed+q.Canceled+q.Warmup {
		t.Errorf("requests not accounted for: %+v", q)
	}
	for _, k := range []string{"http_429", "http_5xx", "stream_error"} {
		if res.Summary.Errors[k] == 0 {
			t.Errorf("chaos produced no %s: %v", k, res.Summary.Errors)
		}
	}
	// Flat memory: after the first sample (warm-up), the heap may not grow
	// by more than 16 MiB or 50%, whichever is larger.
	if len(samples) >= 3 {
		base := samples[1].heap
		limit := max(base+16<<20, base*3/2)
		for _, s := range samples[2:] {
			if s.heap > limit {
				t.Errorf("heap grew from %.1f MiB to %.1f MiB at %s", float64(base)/(1<<20), float64(s.heap)/(1<<20), s.at)
			}
		}
	}
	// No goroutine leak: once the run returned and idle connections closed,
	// the count is back where it started.
	var after int
	for i := 0; i < 50; i++ {
		runtime.GC()
		if after = runtime.NumGoroutine(); after <= goroutinesBefore+2 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("goroutines before %d, after %d", goroutinesBefore, after)
	if after > goroutinesBefore+2 {
		buf := make([]byte, 1<<20)
		n := runtime.Stack(buf, true)
		t.Errorf("goroutines: %d before, %d after the run\n%s", goroutinesBefore, after, buf[:n])
	}
}
