package profiles_test

import (
	"time"

	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamgauge/streamgauge/internal/secret"
	"github.com/streamgauge/streamgauge/profiles"
	"github.com/streamgauge/streamgauge/targets/generic"
)

func TestValidate(t *testing.T) {
	ok := func(mod func(*profiles.Profile)) profiles.Profile {
		p := profiles.Default()
		p.Rate, p.Requests = 5, 10
		mod(&p)
		return p
	}
	tests := []struct {
		name string
		p    profiles.Profile
		want []string // substrings of the error; none = valid
	}{
		{"defaults plus a load", ok(func(*profiles.Profile) {}), nil},
		{"closed loop", ok(func(p *profiles.Profile) { p.Rate, p.Concurrency = 0, 4 }), nil},
		{"no load", ok(func(p *profiles.Profile) { p.Rate = 0 }), []string{"rate: give --rate R"}},
		{"two loads", ok(func(p *profiles.Profile) { p.Concurrency = 3 }), []string{"not both"}},
		{"no end", ok(func(p *profiles.Profile) { p.Requests = 0 }), []string{"duration: give --duration D"}},
		{"bad target", ok(func(p *profiles.Profile) { p.Target = "127.0.0.1:8000" }), []string{"target: \"127.0.0.1:8000\" is not a base URL"}},
		{"target with path", ok(func(p *profiles.Profile) { p.Target = "http://h:1/v1/chat/completions" }), []string{"includes the API path"}},
		{"bad api", ok(func(p *profiles.Profile) { p.API = "soap" }), []string{"api: \"soap\" is not supported"}},
		{"bad header", ok(func(p *profiles.Profile) { p.Headers = []string{"NoColon"} }), []string{"header: \"NoColon\""}},
		{"bad arrival", ok(func(p *profiles.Profile) { p.Arrival = "chaotic" }), []string{"arrival:"}},
		{"trace spread without a trace", ok(func(p *profiles.Profile) { p.TraceSpread = "uniform" }), []string{"trace-spread: applies to --trace only"}},
		{"bad trace spread", ok(func(p *profiles.Profile) { p.TraceSpread = "even" }), []string{`trace-spread: "even": want none, uniform or poisson`}},
		{"negative trace slot", ok(func(p *profiles.Profile) { p.TraceSlot = -time.Second }), []string{"trace-slot: -1s must not be negative"}},
		{"gamma without cv", ok(func(p *profiles.Profile) { p.Arrival, p.Burstiness = "gamma", 0 }), []string{"burstiness"}},
		{"ramp without length", ok(func(p *profiles.Profile) { p.Arrival, p.RampTo = "ramp", 10 }), []string{"ramp-over"}},
		{"sine amplitude too big", ok(func(p *profiles.Profile) { p.Arrival, p.SineAmplitude, p.SinePeriod = "sine", 9, 0 }), []string{"sine-amplitude"}},
		{"bad dist", ok(func(p *profiles.Profile) { p.InputTokens = "normal:500" }), []string{"input-tokens:"}},
		{"warmup eats run", ok(func(p *profiles.Profile) { p.Duration, p.Warmup = 10e9, 10e9 }), []string{"warmup:"}},
		{"bad stages", ok(func(p *profiles.Profile) { p.Rate, p.Stages = 0, []string{"30s:speed=3"} }), []string{"stages:"}},
		{"stages and rate", ok(func(p *profiles.Profile) { p.Stages = []string{"30s:rate=3"} }), []string{"each sets the load on its own"}},
		{"latency-from", ok(func(p *profiles.Profile) { p.LatencyFrom = "arrival" }), []string{"latency-from"}},
		{"trace with rate", ok(func(p *profiles.Profile) { p.Trace = "x.csv" }), []string{"each sets the load on its own"}},
		{"think without sessions", ok(func(p *profiles.Profile) { p.ThinkTime = "100" }), []string{"think-time"}},
		{"prefix without tokens", ok(func(p *profiles.Profile) { p.PrefixGroups = 3 }), []string{"prefix-groups"}},
		{"every problem at once", ok(func(p *profiles.Profile) { p.API, p.InputTokens, p.OutputTokens = "x", "uniform:9,1", "-3" }),
			[]string{"api:", "input-tokens:", "output-tokens:"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestBuiltinsLoadAndValidate(t *testing.T) {
	names := profiles.BuiltinNames()
	for _, want := range []string{"chat", "code", "summarize", "rag", "reasoning", "agent", "burst", "replay-azure-conv", "demo"} {
		found := false
		for _, n := range names {
			found = found || n == want
		}
		if !found {
			t.Errorf("built-in profile %s missing (have %v)", want, names)
		}
	}
	for _, n := range names {
		p, ok := profiles.Builtin(n)
		if !ok {
			t.Errorf("%s does not load", n)
			continue
		}
		if p.Name != n || p.Description == "" {
			t.Errorf("%s: name %q, description %q", n, p.Name, p.Description)
		}
		if err := p.Validate(); err != nil {
			t.Errorf("%s: %v", n, err)
		}
		if p.Trace != "" {
			f, err := p.OpenFile("trace", p.Trace)
			if err != nil {
				t.Errorf("%s: trace %s: %v", n, p.Trace, err)
			} else {
				f.Close()
			}
		}
	}
}

func TestUnknownKeySuggests(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p.yaml")
	os.WriteFile(path, []byte("rate: 5\ninput_tokens: 100\n"), 0o644)
	src, err := profiles.Find(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = src.Settings()
	if err == nil || !strings.Contains(err.Error(), `unknown key "input_tokens" (did you mean "input-tokens"?)`) {
		t.Errorf("error = %v", err)
	}
}

func TestFileDecodesAndRedacts(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p.yaml")
	os.WriteFile(path, []byte("name: x\nrate: 2.5\nduration: 90s\nheader: ['Authorization: Bearer s3cret', 'X-Team: a']\nstages: ['10s:rate=1']\n"), 0o644)
	src, err := profiles.Find(path)
	if err != nil {
		t.Fatal(err)
	}
	settings, err := src.Settings()
	if err != nil {
		t.Fatal(err)
	}
	p, err := profiles.Resolve(settings)
	if err != nil {
		t.Fatal(err)
	}
	if p.Rate != 2.5 || p.Duration.Seconds() != 90 || len(p.Headers) != 2 || p.Stages[0] != "10s:rate=1" {
		t.Errorf("decoded %+v", p)
	}
	r := p.Redacted()
	if strings.Contains(strings.Join(r.Headers, ";"), "s3cret") || r.Headers[1] != "X-Team: "+secret.Mask("a") {
		t.Errorf("redacted headers %q", r.Headers)
	}
	if p.Headers[0] != "Authorization: Bearer s3cret" {
		t.Errorf("Redacted changed the original: %q", p.Headers)
	}
}

func TestNotFound(t *testing.T) {
	_, err := profiles.Find("no-such-profile")
	if err == nil || !strings.Contains(err.Error(), "not a built-in profile") || !strings.Contains(err.Error(), "chat") {
		t.Errorf("error = %v", err)
	}
}

// TestRedactedDeniesByDefault: every header value is masked unless its name
// is harmless, wherever a profile holds one, and URLs lose their
// credentials; Secrets lists every value a message must not quote.
func TestRedactedDeniesByDefault(t *testing.T) {
	p := profiles.Profile{
		Target: "https://bench:pw-SECRET@gw.example.com/v1?key=q-SECRET",
		Headers: []string{"cf-aig-authorization: Bearer gw-SECRET", "X-Custom: value-SECRET", "Authorization: Basic b-SECRET",
			"Content-Type: application/json", "user-agent: bench/1"},
		ScrapeMetrics: "http://m:mp-SECRET@127.0.0.1:9/metrics",
		Endpoint:      "/v1beta/models/m:streamGenerateContent?alt=sse&key=ep-SECRET",
		Generic:       generic.Spec{Headers: map[string]string{"X-Routing": "route-SECRET", "Accept": "text/event-stream"}},
	}
	r := p.Redacted()
	b, _ := json.Marshal(r)
	if bytes.Contains(b, []byte("SECRET")) {
		t.Errorf("Redacted still holds a secret: %s", b)
	}
	for _, want := range []string{"cf-aig-authorization: " + secret.Mask("Bearer gw-SECRET"), "X-Custom: " + secret.Mask("value-SECRET"),
		"Content-Type: application/json", "user-agent: bench/1", `"Accept":"text/event-stream"`, `"X-Routing":"` + secret.Mask("route-SECRET"),
		"gw.example.com/v1?key=" + secret.Mask("q-SECRET")} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("Redacted lacks %q: %s", want, b)
		}
	}
	if p.Headers[1] != "X-Custom: value-SECRET" || p.Generic.Headers["X-Routing"] != "route-SECRET" {
		t.Error("Redacted changed the original")
	}
	got := strings.Join(p.Secrets(), "|")
	for _, want := range []string{"Bearer gw-SECRET", "value-SECRET", "Basic b-SECRET", "pw-SECRET", "q-SECRET", "mp-SECRET", "route-SECRET", "ep-SECRET"} {
		if !strings.Contains(got, want) {
			t.Errorf("Secrets lacks %q: %s", want, got)
		}
	}
	if strings.Contains(got, "application/json") || strings.Contains(got, "text/event-stream") {
		t.Errorf("Secrets holds a harmless value: %s", got)
	}
}

// TestValidateQuotesNoSecret: a malformed header or target is named in the
// error without its credential.
func TestValidateQuotesNoSecret(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*profiles.Profile)
		want string
	}{
		{"header without a colon", func(p *profiles.Profile) { p.Headers = []string{"Authorization Bearer tok-SECRET"} }, "header: \"Authorization redacted:"},
		{"target with the API path", func(p *profiles.Profile) { p.Target = "https://u:pw-SECRET@h/v1/chat/completions" }, "target: \"https://redacted:"},
		{"target not a URL", func(p *profiles.Profile) { p.Target = "ftp://u:pw-SECRET@h" }, "target: \"ftp://redacted:"},
		{"the key given as api-key-env", func(p *profiles.Profile) { p.APIKeyEnv = "abc-SECRET.123" }, "api-key-env: not a variable name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := profiles.Default()
			p.Rate = 1
			tt.mod(&p)
			err := p.Validate()
			if err == nil || strings.Contains(err.Error(), "SECRET") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate = %v, want %q and no secret", err, tt.want)
			}
		})
	}
}

// TestFilesResolveByOrigin: a file a built-in profile names is read from the
// built-in data; one a flag names (over a built-in profile) is read from the
// working directory, not looked up among the built-in data.
func TestFilesResolveByOrigin(t *testing.T) {
	dir := t.TempDir()
	own := filepath.Join(dir, "mine.csv")
	if err := os.WriteFile(own, []byte("offset_ms,input_tokens,output_tokens\n0,10,5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range profiles.BuiltinNames() {
		p, err := profiles.Load(name, []profiles.Setting{{Key: "trace", Text: own, From: profiles.Origin{Flag: "trace"}}})
		if err != nil {
			t.Fatal(err)
		}
		f, err := p.OpenFile("trace", p.Trace)
		if err != nil {
			t.Fatalf("%s --trace %s: %v", name, own, err)
		}
		f.Close()
		p2, err := profiles.Load(name, []profiles.Setting{{Key: "input-tokens", Text: "empirical:" + own + ":input_tokens", From: profiles.Origin{Flag: "input-tokens"}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p2.ParseDist("input-tokens", p2.InputTokens); err != nil {
			t.Errorf("%s --input-tokens empirical:%s: %v", name, own, err)
		}
	}
}
