package harness_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/harness"
	"github.com/streamgauge/streamgauge/profiles"
	"github.com/streamgauge/streamgauge/targets/apis"
	"github.com/streamgauge/streamgauge/targets/sim"
)

// inProcSim is a SimStarter serving the fixed engine in this process,
// counting starts and stops.
type inProcSim struct {
	mu            sync.Mutex
	starts, stops int
	failRate      float64
}

type inProcServer struct {
	l    *sim.Listener
	f    *os.File
	once sync.Once
	s    *inProcSim
}

func (s *inProcServer) URL() string        { return s.l.URL }
func (s *inProcServer) CPU() time.Duration { return 0 }
func (s *inProcServer) Stop() error {
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		s.l.Close(ctx)
		s.f.Close()
		s.s.mu.Lock()
		s.s.stops++
		s.s.mu.Unlock()
	})
	return nil
}

func (p *inProcSim) start(_ context.Context, ttft, itl time.Duration, truth string) (harness.SimServer, error) {
	cfg := sim.DefaultConfig()
	cfg.Scheduler, cfg.TTFT, cfg.ITL = sim.SchedFixed, ttft, itl
	cfg.FailRate = p.failRate
	f, err := os.Create(truth)
	if err != nil {
		return nil, err
	}
	srv, err := sim.New(sim.WithConfig(cfg), sim.WithProtocols(apis.Servers()...), sim.WithTruthLog(f))
	if err != nil {
		f.Close()
		return nil, err
	}
	l, err := srv.Listen("127.0.0.1:0")
	if err != nil {
		f.Close()
		return nil, err
	}
	p.mu.Lock()
	p.starts++
	p.mu.Unlock()
	return &inProcServer{l: l, f: f, s: p}, nil
}

// TestDoctorInterruptStopsAtOnce: Ctrl-C during a probe whose streams last
// a minute ends the probe without its drain (up to 30 s), says the search
// was interrupted, and stops every simulator it started.
func TestDoctorInterruptStopsAtOnce(t *testing.T) {
	p := profiles.Default()
	p.Name = "long-streams"
	p.Rate, p.Duration = 20, time.Second
	p.InputTokens, p.OutputTokens = "16", "6000" // 6000 × 10 ms: a minute each
	sims := &inProcSim{}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { time.Sleep(1500 * time.Millisecond); cancel() }()
	type ret struct {
		err   error
		probe int
	}
	done := make(chan ret, 1)
	go func() {
		d, err := harness.Doctor(ctx, p, harness.DoctorOptions{StartSim: sims.start, Dir: dir, ProbeDuration: time.Second, Budget: time.Minute})
		n := 0
		if d != nil {
			n = len(d.Probes)
		}
		done <- ret{err, n}
	}()
	var r ret
	select {
	case r = <-done:
	case <-time.After(25 * time.Second):
		t.Fatal("doctor waited for the interrupted probe's drain")
	}
	if r.err == nil || !strings.Contains(r.err.Error(), "interrupted") || r.probe != 0 {
		t.Errorf("Doctor: %v with %d probes judged; want interrupted and none judged", r.err, r.probe)
	}
	sims.mu.Lock()
	defer sims.mu.Unlock()
	if sims.starts != 1 || sims.stops != sims.starts {
		t.Errorf("simulators started %d, stopped %d", sims.starts, sims.stops)
	}
	if _, err := os.Stat(filepath.Join(dir, "probe-01-20.truth.jsonl")); err != nil {
		t.Errorf("truth log: %v", err)
	}
}

// TestDoctorNothingMeasured: when every request fails at every level, the
// verdict says nothing was measured, not that the client is the
// bottleneck, and every simulator is stopped.
func TestDoctorNothingMeasured(t *testing.T) {
	p := profiles.Default()
	p.Name = "failing"
	p.Rate, p.Duration = 10, time.Second
	p.InputTokens, p.OutputTokens = "16", "4"
	sims := &inProcSim{failRate: 1}
	d, err := harness.Doctor(context.Background(), p, harness.DoctorOptions{StartSim: sims.start, Dir: t.TempDir(),
		TTFT: 2 * time.Millisecond, ITL: time.Millisecond, ProbeDuration: 500 * time.Millisecond, Budget: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Probes) == 0 || d.Measured() || d.Ceiling != 0 || !strings.HasPrefix(d.Verdict, "no probe completed a request") {
		t.Errorf("probes %d, measured %v, ceiling %g, verdict %q", len(d.Probes), d.Measured(), d.Ceiling, d.Verdict)
	}
	sims.mu.Lock()
	defer sims.mu.Unlock()
	if sims.starts != len(d.Probes) || sims.stops != sims.starts {
		t.Errorf("simulators started %d, stopped %d, for %d probes", sims.starts, sims.stops, len(d.Probes))
	}
}
