package prompt_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/streamgauge/streamgauge/loadgen/prompt"
	"github.com/streamgauge/streamgauge/targets/sim"
)

// counter counts with f and the number of calls.
type counter struct {
	f     func(string) int
	calls int
}

func (c *counter) count(_ context.Context, text string) (int, error) {
	c.calls++
	return c.f(text), nil
}

func TestFitReachesServerCount(t *testing.T) {
	b, _ := builder(t, "cl100k_base")
	_, o200k := builder(t, "o200k_base")
	counts := map[string]func(string) int{
		"sim":   sim.CountTokens,
		"o200k": o200k.Count,
		// A server that adds a BOS token and a 5-token chat template.
		"template": func(s string) int { return sim.CountTokens(s) + 6 },
		// Every word three tokens: no prefix hits most lengths, fillers must.
		"coarse": func(s string) int { return 3 * len(strings.Fields(s)) },
	}
	for name, f := range counts {
		t.Run(name, func(t *testing.T) {
			fit, err := prompt.NewFitter(b)
			if err != nil {
				t.Fatal(err)
			}
			inexact := 0
			for i, n := range []int{8, 50, 128, 500, 2000, 7} {
				text := b.Build(seeded(uint64(i)), n)
				c := &counter{f: f}
				got, gc, err := fit.Fit(context.Background(), "", text, n, c.count)
				if err != nil {
					t.Fatalf("n=%d: %v", n, err)
				}
				if real := f(got); real != gc {
					t.Errorf("n=%d: Fit says %d tokens, the counter %d", n, gc, real)
				}
				if gc != n {
					inexact++
					t.Logf("n=%d: fitted to %d", n, gc)
				}
				if first := strings.Fields(text)[0]; !strings.HasPrefix(got, first) {
					t.Errorf("n=%d: fitted text %.30q lost the first word %q", n, got, first)
				}
				if c.calls > 24 {
					t.Errorf("n=%d: %d counts, want at most 24", n, c.calls)
				}
				// A second fit of the same prompt is cached.
				c2 := &counter{f: f}
				if again, _, _ := fit.Fit(context.Background(), "", text, n, c2.count); again != got || c2.calls != 0 {
					t.Errorf("n=%d: second fit made %d counts", n, c2.calls)
				}
			}
			if inexact > 0 && name != "coarse" {
				t.Errorf("%d prompts not fitted exactly", inexact)
			}
		})
	}
}

func TestFitCountError(t *testing.T) {
	b, _ := builder(t, "cl100k_base")
	fit, _ := prompt.NewFitter(b)
	boom := errors.New("boom")
	_, _, err := fit.Fit(context.Background(), "", b.Build(seeded(1), 20), 20, func(context.Context, string) (int, error) { return 0, boom })
	if !errors.Is(err, boom) {
		t.Errorf("error %v, want the counter's", err)
	}
}

func TestFitContextKey(t *testing.T) {
	b, _ := builder(t, "cl100k_base")
	fit, _ := prompt.NewFitter(b)
	text := b.Build(seeded(3), 40)
	plain := func(_ context.Context, s string) (int, error) { return sim.CountTokens(s), nil }
	withSystem := func(_ context.Context, s string) (int, error) { return 10 + sim.CountTokens(s), nil }
	a, ca, _ := fit.Fit(context.Background(), "", text, 40, plain)
	c, cc, _ := fit.Fit(context.Background(), "system", text, 40, withSystem)
	if ca != 40 || cc != 40 || a == c {
		t.Errorf("fits %d and %d tokens, texts equal %v: the context key must separate them", ca, cc, a == c)
	}
}
