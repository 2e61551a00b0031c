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
