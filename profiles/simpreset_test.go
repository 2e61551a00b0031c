package profiles_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamgauge/streamgauge/profiles"
	"github.com/streamgauge/streamgauge/targets/sim"
)

// TestSimPresetFile checks where sim-preset-file resolves (relative to the
// profile file when the profile gave it, to the working directory when a
// flag or a variable did), that the cost model it holds replaces the
// preset, and the one-line errors naming the file and the field.
func TestSimPresetFile(t *testing.T) {
	dir := t.TempDir()
	profDir := filepath.Join(dir, "profiles")
	if err := os.MkdirAll(profDir, 0o755); err != nil {
		t.Fatal(err)
	}
	good := "name: mine\nper_token: 30us\nweight_read: 4ms\nkv_tokens: 5000\n"
	for path, body := range map[string]string{
		filepath.Join(profDir, "cal.yaml"): good,
		filepath.Join(dir, "cal.yaml"):     strings.Replace(good, "mine", "cwd", 1),
		filepath.Join(profDir, "bad.yaml"): "name: x\nper_tokn: 1ms\nkv_tokens: 5\n",
		filepath.Join(profDir, "neg.yaml"): "name: x\nper_token: 1ms\nkv_tokens: 0\n",
	} {
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	tests := []struct {
		name     string
		file     string             // profile file text
		layer    []profiles.Setting // env or flags, over the file
		wantName string             // the cost model's name
		wantErr  []string           // substrings of the one-line error
	}{
		{name: "relative to the profile file", file: "sim-preset-file: cal.yaml\n", wantName: "mine"},
		{name: "a flag resolves in the working directory", file: "rate: 1\n",
			layer: []profiles.Setting{{Key: "sim-preset-file", Text: "cal.yaml", From: profiles.Origin{Flag: "sim-preset-file"}}}, wantName: "cwd"},
		{name: "a variable resolves in the working directory", file: "rate: 1\n",
			layer: []profiles.Setting{{Key: "sim-preset-file", Text: "cal.yaml", From: profiles.Origin{Env: "STREAMGAUGE_SIM_PRESET_FILE"}}}, wantName: "cwd"},
		{name: "unknown field", file: "sim-preset-file: bad.yaml\n",
			wantErr: []string{"profile p.yaml: sim-preset-file: preset file " + filepath.Join(profDir, "bad.yaml"), "per_tokn"}},
		{name: "no KV capacity", file: "sim-preset-file: neg.yaml\n",
			wantErr: []string{"sim-preset-file: preset file", "neg.yaml", "kv_tokens must be positive"}},
		{name: "missing file, from a variable", file: "rate: 1\n",
			layer:   []profiles.Setting{{Key: "sim-preset-file", Text: "nope.yaml", From: profiles.Origin{Env: "STREAMGAUGE_SIM_PRESET_FILE"}}},
			wantErr: []string{"sim-preset-file: preset file nope.yaml: no such file (set by STREAMGAUGE_SIM_PRESET_FILE)"}},
		{name: "with sim-preset in the file, file given by flag", file: "sim-preset: h100-llama8b\n",
			layer:   []profiles.Setting{{Key: "sim-preset-file", Text: "cal.yaml", From: profiles.Origin{Flag: "sim-preset-file"}}},
			wantErr: []string{"sim-preset-file: profile p.yaml: sim-preset and --sim-preset-file both choose the simulator's cost model; give one"}},
		{name: "both flags",
			layer: []profiles.Setting{{Key: "sim-preset", Text: "h100-llama8b", From: profiles.Origin{Flag: "sim-preset"}},
				{Key: "sim-preset-file", Text: "cal.yaml", From: profiles.Origin{Flag: "sim-preset-file"}}},
			wantErr: []string{"sim-preset-file: --sim-preset and --sim-preset-file both choose"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := &profiles.Source{Name: "p.yaml", Dir: profDir, Data: []byte("requests: 1\n" + tc.file)}
			file, err := src.Settings()
			if err != nil {
				t.Fatal(err)
			}
			p, err := profiles.Resolve(file, tc.layer)
			if err != nil {
				t.Fatal(err)
			}
			p.Dir = src.Dir
			if p.Rate == 0 {
				p.Rate = 1
			}
			cfg, err := p.SimConfig()
			if len(tc.wantErr) > 0 {
				verr := p.Validate()
				if err == nil || verr == nil {
					t.Fatalf("SimConfig error %v, Validate %v; want an error", err, verr)
				}
				msg := verr.Error()
				for _, w := range tc.wantErr {
					if !strings.Contains(msg, w) || strings.Contains(msg, "\n") {
						t.Errorf("Validate: %q; want one line containing %q", msg, w)
					}
				}
				return
			}
			if err != nil || p.Validate() != nil {
				t.Fatalf("SimConfig: %v; Validate: %v", err, p.Validate())
			}
			m, _ := cfg.CostModel()
			if cfg.Cost == nil || m.Name != tc.wantName || m.PerToken.String() != "30µs" || m.KVTokens != 5000 {
				t.Errorf("cost model %+v, want %s from the file", m, tc.wantName)
			}
			if _, err := sim.NewEngine(cfg); err != nil {
				t.Errorf("NewEngine: %v", err)
			}
		})
	}
}
