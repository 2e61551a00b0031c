package profiles_test

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/profiles"
)

func TestParseText(t *testing.T) {
	tests := []struct {
		kind    profiles.Kind
		text    string
		want    any
		problem string // "" = read
	}{
		{profiles.KindDuration, "10s", 10 * time.Second, ""},
		{profiles.KindDuration, "1m30s", 90 * time.Second, ""},
		{profiles.KindDuration, " 250ms ", 250 * time.Millisecond, ""},
		{profiles.KindDuration, "0", time.Duration(0), ""},
		{profiles.KindDuration, "10", nil, "has no unit; write 10s (or ms, m, h)"},
		{profiles.KindDuration, "1.5", nil, "has no unit; write 1.5s (or ms, m, h)"},
		{profiles.KindDuration, "-3", nil, "must not be negative"},
		{profiles.KindDuration, "-3s", nil, "must not be negative"},
		{profiles.KindDuration, "2d", nil, "is not a duration; days are written in hours, e.g. 24h"},
		{profiles.KindDuration, "soon", nil, "is not a duration; write a number and a unit, e.g. 30s, 500ms or 1m30s"},
		{profiles.KindFloat, "2.5", 2.5, ""},
		{profiles.KindFloat, "5/s", nil, "is not a number"},
		{profiles.KindFloat, "NaN", nil, "is not a finite number"},
		{profiles.KindFloat, "inf", nil, "is not a finite number"},
		{profiles.KindFloat, "1e400", nil, "is out of range"},
		{profiles.KindFloat, "50%", nil, "is not a number"},
		{profiles.KindInt, "12", 12, ""},
		{profiles.KindInt, "-2", -2, ""},
		{profiles.KindInt, "1e3", 1000, ""},
		{profiles.KindInt, "1.5", nil, "is not a whole number"},
		{profiles.KindInt, "1e30", nil, "is too large"},
		{profiles.KindInt, "many", nil, "is not a number; want a whole number"},
		{profiles.KindUint, "18446744073709551615", uint64(math.MaxUint64), ""},
		{profiles.KindUint, "-1", nil, "must not be negative"},
		{profiles.KindUint, "-1e3", nil, "must not be negative"},
		{profiles.KindUint, "0.5", nil, "is not a whole number"},
		{profiles.KindBool, "true", true, ""},
		{profiles.KindBool, "0", false, ""},
		{profiles.KindBool, "yes", nil, "is not true or false"},
		{profiles.KindString, " as is ", " as is ", ""},
	}
	for _, tc := range tests {
		t.Run(string(tc.kind)+"/"+tc.text, func(t *testing.T) {
			got, err := profiles.ParseText(tc.kind, tc.text)
			if tc.problem != "" {
				if err == nil || err.Error() != tc.problem {
					t.Fatalf("got %v, %v; want problem %q", got, err, tc.problem)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %#v, %v; want %#v", got, err, tc.want)
			}
		})
	}
}

// TestResolveLayers checks file < environment < flags, and that each key
// remembers where it came from.
func TestResolveLayers(t *testing.T) {
	src := &profiles.Source{Name: "p.yaml", Data: []byte("rate: 2\nduration: 1m\nheader: 'X-A: 1'\nslo: [ttft.p99<1s]\nstart-at: 2026-11-28T10:00:00Z\nmodel: 1.50\n")}
	file, err := src.Settings()
	if err != nil {
		t.Fatal(err)
	}
	env := []profiles.Setting{{Key: "rate", Text: "3", From: profiles.Origin{Env: "STREAMGAUGE_RATE"}},
		{Key: "stages", List: []string{"10s:rate=1"}, IsList: true, From: profiles.Origin{Env: "STREAMGAUGE_STAGES"}}}
	flags := []profiles.Setting{{Key: "rate", Text: "4", From: profiles.Origin{Flag: "rate"}}}
	p, err := profiles.Resolve(file, env, flags)
	if err != nil {
		t.Fatal(err)
	}
	if p.Rate != 4 || p.Duration != time.Minute || len(p.Headers) != 1 || p.SLO[0] != "ttft.p99<1s" ||
		p.StartAt != "2026-11-28T10:00:00Z" || p.Model != "1.50" || p.Stages[0] != "10s:rate=1" {
		t.Errorf("resolved %+v", p)
	}
	for key, want := range map[string]string{"rate": "--rate", "duration": "profile p.yaml: duration", "stages": "STREAMGAUGE_STAGES", "timeout": "timeout"} {
		if got := p.Origin(key).Where(key); got != want {
			t.Errorf("%s came from %q, want %q", key, got, want)
		}
	}
}

// TestNullLeavesDefault checks `key:` with no value keeps the default.
func TestNullLeavesDefault(t *testing.T) {
	src := &profiles.Source{Name: "p.yaml", Data: []byte("timeout:\nrate: ~\n")}
	file, err := src.Settings()
	if err != nil {
		t.Fatal(err)
	}
	p, err := profiles.Resolve(file)
	if err != nil || p.Timeout != profiles.Default().Timeout || p.Rate != 0 {
		t.Errorf("got %v, %v", p.Timeout, err)
	}
}

// TestValidateNamesOrigin checks Validate's lines name the file or
// variable of the key they concern, one line per problem.
func TestValidateNamesOrigin(t *testing.T) {
	src := &profiles.Source{Name: "p.yaml", Data: []byte("rate: -2\nrequests: 1\nslo: ['ttft.p99<', 'itl<']\n")}
	file, err := src.Settings()
	if err != nil {
		t.Fatal(err)
	}
	env := []profiles.Setting{{Key: "api", Text: "soap", From: profiles.Origin{Env: "STREAMGAUGE_API"}}}
	p, err := profiles.Resolve(file, env)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(p.Validate().Error(), "\n")
	want := []string{`api: "soap" is not supported`, "profile p.yaml: rate: -2 must be positive", "profile p.yaml: slo: ttft.p99<:", "profile p.yaml: slo: itl<:"}
	if len(lines) != len(want) {
		t.Fatalf("lines %q", lines)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d %q, want prefix %q", i, lines[i], w)
		}
	}
	if !strings.HasSuffix(lines[0], "(set by STREAMGAUGE_API)") {
		t.Errorf("line %q does not name its variable", lines[0])
	}
}

func TestKeyList(t *testing.T) {
	keys := profiles.KeyList()
	if len(keys) != len(profiles.Keys()) {
		t.Fatalf("%d keys, %d names", len(keys), len(profiles.Keys()))
	}
	kinds := map[string]profiles.Kind{}
	for _, k := range keys {
		kinds[k.Name] = k.Kind
	}
	for name, kind := range map[string]profiles.Kind{"duration": profiles.KindDuration, "rate": profiles.KindFloat,
		"requests": profiles.KindUint, "concurrency": profiles.KindInt, "insecure": profiles.KindBool,
		"slo": profiles.KindList, "generic": profiles.KindBlock, "model": profiles.KindString} {
		if kinds[name] != kind {
			t.Errorf("%s is %q, want %q", name, kinds[name], kind)
		}
	}
}

// FuzzParseText checks the one reader of every value: it never panics,
// and what it accepts is in range (no negative durations, finite numbers).
func FuzzParseText(f *testing.F) {
	for _, s := range []string{"10", "10s", "-1s", "1.5", "1e400", "NaN", "yes", "0x10", "9223372036854775808", "-0", " 3 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, k := range []profiles.Kind{profiles.KindString, profiles.KindBool, profiles.KindInt, profiles.KindUint, profiles.KindFloat, profiles.KindDuration} {
			v, err := profiles.ParseText(k, s)
			if err != nil {
				if err.Error() == "" {
					t.Errorf("%s %q: empty problem", k, s)
				}
				continue
			}
			switch x := v.(type) {
			case time.Duration:
				if x < 0 {
					t.Errorf("%q read as a negative duration", s)
				}
			case float64:
				if math.IsNaN(x) || math.IsInf(x, 0) {
					t.Errorf("%q read as %v", s, x)
				}
			}
		}
	})
}
