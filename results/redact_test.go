package results_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamgauge/streamgauge/internal/secret"
	"github.com/streamgauge/streamgauge/profiles"
	"github.com/streamgauge/streamgauge/results"
)

// TestMergeRedacts: shards written before redaction existed hold header
// values and URL credentials in clear; the merged run.json, and a mismatch
// message, hold them masked exactly as a run writes them
// (profiles.Profile.Redacted), and harmless headers stay readable.
func TestMergeRedacts(t *testing.T) {
	const key = "sk-live-0123456789abcdef"
	cases := []struct {
		name    string
		set     map[string]any // profile keys of every shard
		secrets []string       // must not appear in run.json
		keep    []string       // must appear in run.json
	}{
		{"header lines", map[string]any{"header": []any{"Authorization: Bearer " + key, "User-Agent: bench/1", "X-Api-Key:" + key}},
			[]string{key}, []string{"User-Agent: bench/1", "Authorization: " + secret.Mask("Bearer "+key)}},
		{"header line without a colon", map[string]any{"header": []any{"Authorization Bearer " + key}},
			[]string{key}, nil},
		{"generic block headers", map[string]any{"generic": map[string]any{"path": "/gen", "headers": map[string]any{"X-Token": key, "Content-Type": "application/json"}}},
			[]string{key}, []string{`"/gen"`, `"application/json"`}},
		{"target credentials", map[string]any{"target": "http://user:" + key + "@127.0.0.1:8000/v1?api_key=" + key},
			[]string{key}, []string{"127.0.0.1:8000"}},
		{"endpoint and scrape-metrics query", map[string]any{"endpoint": "/v1/gen?key=" + key, "scrape-metrics": "http://127.0.0.1:9/metrics?token=" + key},
			[]string{key}, []string{"/v1/gen?key=redacted:"}},
		{"already redacted", map[string]any{"header": []any{"Authorization: " + secret.Mask(key)}},
			nil, []string{"Authorization: " + secret.Mask(key)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dirs := fourShards(t, func(i int, sp *shardSpec) {
				for k, v := range tc.set {
					sp.profile[k] = v
				}
			})
			out := filepath.Join(t.TempDir(), "merged")
			if _, err := results.Merge(out, dirs); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(filepath.Join(out, results.RunFile))
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tc.secrets {
				if strings.Contains(string(b), s) {
					t.Errorf("run.json holds %q in clear:\n%s", s, b)
				}
			}
			for _, s := range tc.keep {
				if !strings.Contains(string(b), s) {
					t.Errorf("run.json lacks %q:\n%s", s, b)
				}
			}
		})
	}
}

// TestMergeRedactsLikeTheWriter: the merged profile's masked keys are what
// profiles.Profile.Redacted writes for the same settings.
func TestMergeRedactsLikeTheWriter(t *testing.T) {
	p := profiles.Profile{Target: "http://u:pw@127.0.0.1:8000?k=v", Endpoint: "/x?key=s",
		Headers: []string{"Authorization: Bearer t", "Accept: text/plain", "Odd value"}}
	var want map[string]any
	b, _ := json.Marshal(p.Redacted())
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	dirs := fourShards(t, func(i int, sp *shardSpec) {
		sp.profile["target"], sp.profile["endpoint"] = p.Target, p.Endpoint
		sp.profile["header"] = []any{p.Headers[0], p.Headers[1], p.Headers[2]}
	})
	out := filepath.Join(t.TempDir(), "merged")
	if _, err := results.Merge(out, dirs); err != nil {
		t.Fatal(err)
	}
	var info results.MergedRunInfo
	if err := results.ReadJSON(out, results.RunFile, &info); err != nil {
		t.Fatal(err)
	}
	got := info.Profile.(map[string]any)
	for _, k := range []string{"target", "endpoint", "header"} {
		g, _ := json.Marshal(got[k])
		w, _ := json.Marshal(want[k])
		if string(g) != string(w) {
			t.Errorf("%s: merged %s, writer %s", k, g, w)
		}
	}
}

// TestMergeMismatchRedacts: shards whose headers differ are refused with a
// message that names the key without the values in clear.
func TestMergeMismatchRedacts(t *testing.T) {
	dirs := fourShards(t, func(i int, sp *shardSpec) {
		sp.profile["header"] = []any{"Authorization: Bearer secret-number-" + string(rune('a'+i))}
	})
	_, err := results.Merge(filepath.Join(t.TempDir(), "merged"), dirs)
	if err == nil {
		t.Fatal("merged shards with different headers")
	}
	if strings.Contains(err.Error(), "secret-number") || !strings.Contains(err.Error(), "header") {
		t.Errorf("message %q: want the key named and the values masked", err)
	}
}
