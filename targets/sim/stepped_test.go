package sim

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// TestSteppedGenerate drives the real-clock engine directly: every token
// comes, in order, with due times that never go back, and the engine's
// goroutine ends once the work is done. No timing is asserted.
func TestSteppedGenerate(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Cost = &CostModel{Name: "ms", Overhead: time.Millisecond, KVTokens: 1000}
	cfg.MaxBatch = 2
	e, err := NewStepped(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			job := &Job{ID: "j", PromptTokens: 3 + i, OutputTokens: 4 + i}
			next := 0
			var last int64
			err := e.Generate(context.Background(), job, func(k int) error {
				if k != next || job.Due < last {
					t.Errorf("token %d (want %d) due %d after %d", k, next, job.Due, last)
				}
				next, last = k+1, job.Due
				return nil
			})
			if err != nil || next != job.OutputTokens {
				t.Errorf("job %d: %d tokens, %v", i, next, err)
			}
		}()
	}
	wg.Wait()
	// A failing emit cancels the job and frees its place.
	stop := errors.New("stop")
	job := &Job{ID: "f", PromptTokens: 2, OutputTokens: 50}
	if err := e.Generate(context.Background(), job, func(k int) error {
		if k == 2 {
			return stop
		}
		return nil
	}); !errors.Is(err, stop) {
		t.Errorf("error %v, want the emit error", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		e.mu.Lock()
		active := e.active
		e.mu.Unlock()
		if !active {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("engine goroutine still running after the last job")
		}
		time.Sleep(time.Millisecond)
	}
	if st := e.Stats(); st.Running != 0 || st.Waiting != 0 || st.KVUsed != 0 || st.Steps == 0 {
		t.Errorf("stats after the run: %+v", st)
	}
	if err := e.Admit(&Job{PromptTokens: 900, OutputTokens: 200}); err == nil {
		t.Error("a job larger than the KV cache was admitted")
	}
}

// TestSteppedKeepsSchedule delays the engine in one step: the steps after
// it catch up, so every token's due time stays on the absolute schedule
// (start + k·step) and nothing slips.
func TestSteppedKeepsSchedule(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Cost = &CostModel{Name: "ms", Overhead: time.Millisecond, KVTokens: 1000}
	e, err := NewStepped(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.maxBehind = time.Hour // a loaded test machine must not make it slip
	steps := 0
	e.sleep = func(end int64) {
		steps++
		if steps == 3 {
			time.Sleep(20 * time.Millisecond) // the host stalls the engine
		}
		if d := time.Duration(end - e.now()); d > 0 {
			time.Sleep(d)
		}
	}
	job := &Job{PromptTokens: 4, OutputTokens: 10}
	var due []int64
	if err := e.Generate(context.Background(), job, func(int) error { due = append(due, job.Due); return nil }); err != nil {
		t.Fatal(err)
	}
	for k := range due {
		if got := time.Duration(due[k] - due[0]); got != time.Duration(k)*time.Millisecond {
			t.Errorf("token %d due %s after the first, want %dms", k, got, k)
		}
	}
	if st := e.Stats(); st.Slips != 0 {
		t.Errorf("%d slips", st.Slips)
	}
}
