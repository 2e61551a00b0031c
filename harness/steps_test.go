package harness_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/harness"
	"github.com/streamgauge/streamgauge/profiles"
	"github.com/streamgauge/streamgauge/results"
)

// TestConfigErrorLeavesNoRunningDir: a setting Run refuses is a
// *ConfigError (exit 2) whichever step finds it, and never leaves a run
// directory whose run.json claims the run is still going: a setting read
// from the profile alone is refused before the directory exists, and one
// found only once the run is being assembled marks run.json failed.
func TestConfigErrorLeavesNoRunningDir(t *testing.T) {
	tests := []struct {
		name    string
		mod     func(*profiles.Profile)
		want    string // a substring of the error
		wantDir bool   // the run directory exists, marked failed
	}{
		{"bad SLO", func(p *profiles.Profile) { p.SLO = []string{"ttft p99 <"} }, "ttft", false},
		{"bad goodput", func(p *profiles.Profile) { p.Goodput = "nonsense" }, "nonsense", false},
		{"bad think time", func(p *profiles.Profile) { p.Rate, p.Concurrency, p.ThinkTime = 0, 2, "fast" }, "think-time", false},
		{"neither rate nor concurrency", func(p *profiles.Profile) { p.Rate, p.Concurrency = 0, 0 }, "concurrency", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := profiles.Default()
			p.Name = "config"
			p.Rate, p.Requests = 50, 3
			p.InputTokens, p.OutputTokens = "16", "4"
			p.SimTTFT, p.SimITL = time.Millisecond, time.Millisecond
			p.Out = filepath.Join(t.TempDir(), "run")
			tt.mod(&p)
			res, err := harness.Run(context.Background(), p)
			var ce *harness.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a *harness.ConfigError", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err %q does not say %q", err, tt.want)
			}
			if res != nil {
				t.Errorf("a Result for a run that never ran: %+v", res)
			}
			b, rerr := os.ReadFile(filepath.Join(p.Out, results.RunFile))
			if !tt.wantDir {
				if _, serr := os.Stat(p.Out); !errors.Is(serr, os.ErrNotExist) {
					t.Errorf("run directory %s exists (%v), want none for a setting read from the profile", p.Out, serr)
				}
				return
			}
			if rerr != nil {
				t.Fatal(rerr)
			}
			var info results.RunInfo
			if err := json.Unmarshal(b, &info); err != nil {
				t.Fatal(err)
			}
			if info.Status != results.StatusFailed || info.End.IsZero() {
				t.Errorf("run.json status %q, end %v; want %q with an end", info.Status, info.End, results.StatusFailed)
			}
		})
	}
}
