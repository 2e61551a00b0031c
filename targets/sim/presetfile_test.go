package sim

import (
	"bytes"
	"strings"
	"testing"
)

func TestPresetFileRoundTrip(t *testing.T) {
	for _, m := range Presets() {
		var b bytes.Buffer
		if err := WritePreset(&b, NewPresetFile(m, map[string]any{"runs": []string{"a"}})); err != nil {
			t.Fatal(err)
		}
		got, err := ParsePreset("p.yaml", b.Bytes())
		if err != nil {
			t.Fatalf("%s: %v\n%s", m.Name, err, b.String())
		}
		if got != m {
			t.Errorf("%s: round trip gave %+v, want %+v", m.Name, got, m)
		}
	}
}

func TestParsePresetErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "empty"},
		{"name: x\nper_tokn: 1ms\n", "per_tokn"},
		{"name: x\nper_token: fast\n", `"fast" is not a duration`},
		{"name: x\nper_token: -1ms\nkv_tokens: 10\n", "non-negative"},
		{"name: x\nper_token: 1ms\n", "kv_tokens must be positive"},
	} {
		_, err := ParsePreset("p.yaml", []byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("ParsePreset(%q) = %v, want one line mentioning %q", tc.in, err, tc.want)
		}
	}
}

func FuzzParsePreset(f *testing.F) {
	f.Add([]byte("name: x\nper_token: 27us\nweight_read: 4ms\nkv_tokens: 1000\n"))
	f.Add([]byte("name: y\noverhead: 1ms\nper_context_token_ns: 45.5\nkv_tokens: 5\nfit: {runs: [a]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParsePreset("f.yaml", data)
		if err == nil && m.Validate() != nil {
			t.Fatalf("accepted an invalid model %+v", m)
		}
	})
}
