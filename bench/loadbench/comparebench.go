package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/streamgauge/streamgauge/internal/hostload"
	"github.com/streamgauge/streamgauge/results"
)

// The compare scenario: `streamgauge compare` of two generated runs of
// 1,000,000 requests of 128 tokens each (200,000 with --quick), in a
// process of its own, for its peak RSS (the target: under 500 MB) and its
// time. The runs are written straight to requests.jsonl (no server), the
// candidate with every ttft 10% slower, so the comparison also has a
// regression to find.

// targetCompareRSS is the peak RSS allowed to compare two 1,000,000-request
// runs (issue 20).
const targetCompareRSS = 500e6

// CompareBench is the compare scenario's result.
type CompareBench struct {
	Requests       int     `json:"requests_per_run"`
	Tokens         int     `json:"tokens_per_request"`
	FileMiB        float64 `json:"requests_jsonl_mib_per_run"`
	GenerateS      float64 `json:"generate_s"`
	WallS          float64 `json:"wall_s"`
	CPUS           float64 `json:"cpu_s"`
	PeakRSSMiB     float64 `json:"peak_rss_mib"`
	Exit           int     `json:"exit_code"`
	Regressed      bool    `json:"regressed"`
	TTFTP99Verdict string  `json:"ttft_p99_verdict"`
	Load1          float64 `json:"load1_at_start"`
	Err            string  `json:"error,omitempty"`
}

func (b *bencher) compareRuns(ctx context.Context) error {
	n := 1_000_000
	if b.o.quick {
		n = 200_000
	}
	const tokens = 128
	fmt.Fprintf(b.stdout, "compare: streamgauge compare of two generated runs of %d requests of %d tokens (the candidate's ttft 10%% slower)\n", n, tokens)
	cb := &CompareBench{Requests: n, Tokens: tokens}
	b.rep.Compare = cb
	base, cand := filepath.Join(b.work, "compare-base"), filepath.Join(b.work, "compare-cand")
	if !b.o.keep && b.o.work == "" {
		defer os.RemoveAll(base)
		defer os.RemoveAll(cand)
	}
	t0 := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, g := range []struct {
		dir   string
		seed  uint64
		scale float64
	}{{base, b.o.seed, 1}, {cand, b.o.seed + 1, 1.1}} {
		wg.Go(func() { errs[i] = generateRun(ctx, g.dir, g.seed, n, tokens, g.scale) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			cb.Err = err.Error()
			return err
		}
	}
	cb.GenerateS = round3(time.Since(t0).Seconds())
	if st, err := os.Stat(filepath.Join(base, results.RequestsFile)); err == nil {
		cb.FileMiB = round3(float64(st.Size()) / (1 << 20))
	}
	cb.Load1 = hostload.Average()[0]
	cmd := exec.CommandContext(ctx, b.o.serverBin, "compare", base, cand, "--format", "json")
	out, err := os.CreateTemp(b.work, "compare-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(out.Name())
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, b.stderr
	t1 := time.Now()
	err = cmd.Run()
	cb.WallS = round3(time.Since(t1).Seconds())
	if cmd.ProcessState == nil {
		cb.Err = err.Error()
		return err
	}
	cb.Exit = cmd.ProcessState.ExitCode()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		cb.CPUS = round3(time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds())
		cb.PeakRSSMiB = round3(float64(ru.Maxrss) * 1024 / (1 << 20)) // Linux: KiB
	}
	if cb.Exit != 0 && cb.Exit != 3 {
		cb.Err = fmt.Sprintf("compare exited %d", cb.Exit)
		return fmt.Errorf("compare exited %d", cb.Exit)
	}
	var c struct {
		Metrics []struct {
			Metric     string `json:"metric"`
			Candidates []struct {
				Verdict string `json:"verdict"`
			} `json:"candidates"`
		} `json:"metrics"`
		Regressed []string `json:"regressed"`
	}
	bs, err := os.ReadFile(out.Name())
	if err == nil {
		err = json.Unmarshal(bs, &c)
	}
	if err != nil {
		cb.Err = fmt.Sprintf("read compare's JSON: %v", err)
		return err
	}
	cb.Regressed = len(c.Regressed) > 0
	for _, m := range c.Metrics {
		if m.Metric == "ttft.p99" && len(m.Candidates) == 1 {
			cb.TTFTP99Verdict = m.Candidates[0].Verdict
		}
	}
	fmt.Fprintf(b.stdout, "  compare  %d + %d requests (%.0f MiB of records each): %.1f s wall, %.1f s CPU, peak RSS %.1f MiB, exit %d, ttft.p99 %s (generating took %.1f s)\n",
		n, n, cb.FileMiB, cb.WallS, cb.CPUS, cb.PeakRSSMiB, cb.Exit, cb.TTFTP99Verdict, cb.GenerateS)
	return nil
}

// generateRun writes a run of n requests to dir: requests.jsonl and
// run.json, the records of a server under open-loop load at 1,000 req/s
// (ttft ttftScale × (30 ms + 0.2 ms per prompt token + Exp(20 ms)); tokens
// 10 ms × LogNormal(0, 0.1) per request, each gap jittered by 5%).
func generateRun(ctx context.Context, dir string, seed uint64, n, tokens int, ttftScale float64) error {
	w, err := results.Create(dir)
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(seed, 0))
	icl := make([]float64, tokens-1)
	var t float64
	for i := range n {
		if i%10000 == 0 && ctx.Err() != nil {
			w.Close()
			return ctx.Err()
		}
		t += rng.ExpFloat64() / 1000 * 1e9
		in := 100 + rng.IntN(801)
		ttft := ttftScale * (30 + 0.2*float64(in) + 20*rng.ExpFloat64())
		speed := 10 * math.Exp(0.1*rng.NormFloat64())
		decode := 0.0
		for j := range icl {
			// Microsecond precision, as the runner writes gaps.
			icl[j] = math.Round(speed*math.Max(0.1, 1+0.05*rng.NormFloat64())*1000) / 1000
			decode += icl[j]
		}
		e2e := ttft + decode
		tpot := decode / float64(tokens-1)
		r := &results.Record{ID: strconv.Itoa(i), ScheduledNS: int64(t), SentNS: int64(t), DoneNS: int64(t + e2e*1e6),
			LagMS: 0.05 * rng.ExpFloat64(), TTFBMS: results.Ms(ttft * 0.9), TTFTMS: results.Ms(ttft), TTFOMS: results.Ms(ttft),
			E2EMS: e2e, TPOTMS: results.Ms(tpot), ICLMS: icl, InputTokens: in, OutputTokens: tokens,
			OutputTokensSource: results.SourceUsage, Frames: tokens, HTTPStatus: 200, SLOOK: ttft <= 250}
		if err := w.Append(r); err != nil {
			w.Close()
			return err
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	return results.WriteJSON(dir, results.RunFile, results.RunInfo{Tool: "streamgauge", Profile: map[string]any{"rate": 1000.0, "output-tokens": strconv.Itoa(tokens)}})
}
