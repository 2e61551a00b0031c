package profiles_test

import (
	"strings"
	"testing"

	"github.com/streamgauge/streamgauge/profiles"
)

func TestValidateDataset(t *testing.T) {
	tests := []struct {
		name string
		set  func(p *profiles.Profile)
		want string // "" = valid
	}{
		{"dataset", func(p *profiles.Profile) { p.Dataset = "d.jsonl" }, ""},
		{"filters", func(p *profiles.Profile) {
			p.Dataset, p.DatasetMinInput, p.DatasetMaxInput, p.DatasetSample = "d.jsonl", 10, 100, 50
		}, ""},
		{"think time in open loop", func(p *profiles.Profile) { p.Dataset, p.ThinkTime = "d.json", "500" }, ""},
		{"unique synthetic", func(p *profiles.Profile) { p.UniquePrompts = true }, ""},
		{"unique dataset", func(p *profiles.Profile) { p.Dataset, p.UniquePrompts = "d.jsonl", true }, ""},
		{"format", func(p *profiles.Profile) { p.Dataset, p.DatasetFormat = "d", "yaml" }, `dataset-format: "yaml": want auto, jsonl, sharegpt, text`},
		{"negative", func(p *profiles.Profile) { p.Dataset, p.DatasetSample = "d", -1 }, "dataset-sample: -1 must not be negative"},
		{"bounds", func(p *profiles.Profile) { p.Dataset, p.DatasetMinInput, p.DatasetMaxInput = "d", 9, 8 }, "dataset-min-input: 9 is above dataset-max-input 8"},
		{"filter without dataset", func(p *profiles.Profile) { p.DatasetMinInput = 5 }, "dataset-min-input: applies to --dataset FILE only"},
		{"trace", func(p *profiles.Profile) { p.Dataset, p.Trace = "d", "t.csv" }, "dataset: a trace brings its own request sizes"},
		{"turns", func(p *profiles.Profile) { p.Dataset, p.Turns = "d", "3" }, "turns: a --dataset's conversations set the turns"},
		{"prefix", func(p *profiles.Profile) { p.Dataset, p.PrefixGroups, p.PrefixTokens = "d", 2, 10 }, "prefix-groups: shared prefixes are synthetic text"},
		{"unique prefix", func(p *profiles.Profile) { p.UniquePrompts, p.PrefixGroups, p.PrefixTokens = true, 2, 10 }, "unique-prompts: a marker at the start of every prompt would break"},
		{"unique trace", func(p *profiles.Profile) { p.UniquePrompts, p.Trace, p.Rate = true, "t.csv", 0 }, "unique-prompts: trace replay"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := profiles.Default()
			p.Rate, p.Requests = 5, 10
			tt.set(&p)
			err := p.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("valid profile refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}

// TestDatasetOverBuiltinProfile: a built-in profile's input-tokens is its
// synthetic workload's default and gives way to --dataset; one the user
// gives as a flag is refused.
func TestDatasetOverBuiltinProfile(t *testing.T) {
	dataset := profiles.Setting{Key: "dataset", Text: "d.jsonl", From: profiles.Origin{Flag: "dataset"}}
	tests := []struct {
		name  string
		flags []profiles.Setting
		want  string // "" = no input-tokens problem
	}{
		{"profile's own", []profiles.Setting{dataset}, ""},
		{"user's flag", []profiles.Setting{dataset, {Key: "input-tokens", Text: "30", From: profiles.Origin{Flag: "input-tokens"}}},
			"input-tokens: a --dataset brings its own prompts"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := profiles.Load("chat", tc.flags)
			if err != nil {
				t.Fatal(err)
			}
			err = p.Validate()
			switch {
			case tc.want == "" && err != nil && strings.Contains(err.Error(), "input-tokens"):
				t.Errorf("Validate = %v, want no input-tokens problem", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Validate = %v, want %q", err, tc.want)
			}
		})
	}
}
