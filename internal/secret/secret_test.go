package secret_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/streamgauge/streamgauge/internal/secret"
)

func TestMask(t *testing.T) {
	a, b := secret.Mask("tok-1"), secret.Mask("tok-2")
	if !strings.HasPrefix(a, "redacted:") || len(a) != len("redacted:")+8 {
		t.Errorf("Mask = %q, want redacted: and 8 hex digits", a)
	}
	if a == b {
		t.Error("two values share a mask: runs could not be told apart")
	}
	if secret.Mask("tok-1") != a {
		t.Error("Mask is not stable")
	}
	if secret.Mask(a) != a || secret.Mask("") != "" || secret.Mask("[redacted]") != "[redacted]" {
		t.Error("masking a mask or an empty value changed it")
	}
	if got := secret.Mask("abc"); got != "redacted:ba7816bf" {
		t.Errorf("Mask(abc) = %q, want redacted:ba7816bf (SHA-256 prefix)", got)
	}
}

func TestHeaderLine(t *testing.T) {
	m := secret.Mask
	tests := []struct{ in, want string }{
		{"Content-Type: application/json", "Content-Type: application/json"},
		{"user-agent: bench/1", "user-agent: bench/1"},
		{"Authorization: Bearer sk-1", "Authorization: " + m("Bearer sk-1")},
		{"cf-aig-authorization: Bearer abc", "cf-aig-authorization: " + m("Bearer abc")},
		{"X-Custom: value", "X-Custom: " + m("value")},
		{"X-Tenant:blue", "X-Tenant: " + m("blue")},
		{"X-Empty:", "X-Empty:"},
		{"Authorization Bearer sk-forgot-colon", "Authorization " + m("Bearer sk-forgot-colon")},
		{"X-Custom: " + m("v"), "X-Custom: " + m("v")},
	}
	for _, tt := range tests {
		if got := secret.HeaderLine(tt.in); got != tt.want {
			t.Errorf("HeaderLine(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestHarmless(t *testing.T) {
	for name, want := range map[string]bool{
		"Content-Type": true, "content-type": true, " Accept ": true, "User-Agent": true, "anthropic-version": true,
		"Authorization": false, "X-Api-Key": false, "cf-aig-authorization": false, "X-Custom": false, "Cookie": false, "": false,
	} {
		if got := secret.Harmless(name); got != want {
			t.Errorf("Harmless(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestURL(t *testing.T) {
	m := secret.Mask
	tests := []struct{ in, want string }{
		{"http://127.0.0.1:8000", "http://127.0.0.1:8000"},
		{"https://api.example.com/v1", "https://api.example.com/v1"},
		{"http://h:8000/a%2Fb/", "http://h:8000/a%2Fb/"},
		{"", ""},
		{"https://user:pass@host/p", "https://redacted:" + m("user:pass")[9:] + "@host/p"},
		{"https://KEY123@host", "https://redacted:" + m("KEY123")[9:] + "@host"},
		{"https://host/p?key=abc&api_key=def&v=1", "https://host/p?key=" + m("abc") + "&api_key=" + m("def") + "&v=" + m("1")},
		{"https://host/p#tok", "https://host/p#" + m("tok")},
	}
	for _, tt := range tests {
		if got := secret.URL(tt.in); got != tt.want {
			t.Errorf("URL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := secret.URL(secret.URL("https://u:p@h/?k=v")); got != secret.URL("https://u:p@h/?k=v") {
		t.Errorf("URL is not idempotent: %q", got)
	}
}

// TestRedactorString: known values in every form a server quotes them, and
// credential shapes nobody told us about.
func TestRedactorString(t *testing.T) {
	const key = "sk-live-0123456789abcdefXYZ"
	const gw = "gateway+value/with=chars"
	r := secret.New(key, "Bearer "+gw, "Basic "+"dXNlcjpodW50ZXIy", "short", "")
	tests := []struct {
		name, in string
		gone     []string // must not be in the output
		kept     []string // must still be in it
	}{
		{"raw echo", "invalid api key: " + key, []string{key}, []string{"invalid api key: " + secret.Mask(key)}},
		{"json escaped", `{"error":"bad header \"gateway+value\/with=chars\""}`, []string{"gateway+value"}, []string{"bad header"}},
		{"go quoted", fmt.Sprintf("frame %q: bad", "x gateway+value/with=chars\x01"), []string{"gateway+value"}, []string{"frame"}},
		{"url escaped", "Post \"https://h/?x=gateway%2Bvalue%2Fwith%3Dchars\"", []string{"gateway%2Bvalue"}, []string{"Post"}},
		{"token alone", "token " + gw + " rejected", []string{gw}, []string{"rejected"}},
		{"basic decoded", "user user:hunter2 denied", []string{"hunter2"}, []string{"denied"}},
		{"short known value is not searched", "a short message", nil, []string{"a short message"}},
		{"bearer shape", "got Authorization: Bearer abcDEF123456", []string{"abcDEF123456"}, []string{"Authorization: Bearer redacted:"}},
		{"gateway header in json", `{"cf-aig-authorization":"Bearer zzz-unknown-1"}`, []string{"zzz-unknown-1"}, []string{"cf-aig-authorization"}},
		{"go header map", "headers map[X-Api-Key:[opaque-value]]", []string{"opaque-value"}, nil},
		{"query key", `Post "https://h/v1?key=AbC123&x=1": dial tcp: connection refused`, []string{"AbC123"}, []string{"connection refused"}},
		{"userinfo", `Get "https://bob:pw-9@h/metrics": EOF`, []string{"pw-9", "bob"}, []string{"EOF"}},
		{"provider shapes", "keys sk-ant-api03-aaaaaaaaaaaaaaaaaaaa AKIAABCDEFGHIJKLMNOP ghp_abcdefghijklmnopqrstuvwxyz0123 xoxb-1234567890-abc hf_abcdefghijklmnopqrstuvwx",
			[]string{"sk-ant-api03", "AKIAABCDEFGHIJKLMNOP", "ghp_abc", "xoxb-123", "hf_abc"}, []string{"keys"}},
		{"jwt", "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl expired", []string{"eyJzdWIiOiIxIn0"}, []string{"expired"}},
		{"prose stays", "Bearer authentication required; max_tokens=4096 is too many for this model", nil,
			[]string{"Bearer authentication required; max_tokens=4096 is too many for this model"}},
		{"status text stays", "HTTP 401: Unauthorized", nil, []string{"HTTP 401: Unauthorized"}},
		{"cut at the end", "HTTP 401: quoted sk-live-0123456", []string{"sk-live-0123456", "0123"}, []string{"HTTP 401: quoted redacted:"}},
		{"cut before an ellipsis", "frame \"gateway+value/wi...", []string{"gateway+value/wi"}, []string{"frame \"redacted:", "..."}},
		{"middle starred out", "Incorrect API key provided: sk-live-01****************defXYZ. You can find your API key at https://x/keys.",
			[]string{"sk-live-01", "defXYZ"}, []string{"Incorrect API key provided: redacted:", "****redacted:", ". You can find your API key at https://x/keys."}},
		{"a short start is a word", "HTTP 401: quoted sk-", nil, []string{"quoted sk-"}},
		{"cut inside, then more text", `frame "{xx sk-live-0123...": invalid; tail "...3456789abcdefXYZ}"`, []string{"sk-live-0123", "3456789abcdef"},
			[]string{`frame "{xx redacted:`, `...": invalid; tail "...redacted:`, `}"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := r.String(tt.in)
			for _, g := range tt.gone {
				if strings.Contains(got, g) {
					t.Errorf("%q still holds %q", got, g)
				}
			}
			for _, k := range tt.kept {
				if !strings.Contains(got, k) {
					t.Errorf("%q lost %q", got, k)
				}
			}
			if again := r.String(got); again != got {
				t.Errorf("not idempotent: %q then %q", got, again)
			}
		})
	}
}

func TestRedactorError(t *testing.T) {
	base := errors.New("dial https://u:secretpw@h")
	r := secret.New("secretpw")
	err := r.Error(fmt.Errorf("run: %w", base))
	if strings.Contains(err.Error(), "secretpw") || !errors.Is(err, base) {
		t.Errorf("Error = %q (unwraps to base: %v)", err, errors.Is(err, base))
	}
	if r.Error(nil) != nil {
		t.Error("Error(nil) is not nil")
	}
	var nilR *secret.Redactor
	if got := nilR.String("Authorization: Bearer abc123456"); strings.Contains(got, "abc123456") {
		t.Errorf("nil Redactor left a bearer token: %q", got)
	}
}

// FuzzRedactor: whatever the text, a known value never survives, and a
// second pass changes nothing.
func FuzzRedactor(f *testing.F) {
	f.Add("HTTP 401: bad key sk-test-SECRET-0123456789", "sk-test-SECRET-0123456789")
	f.Add(`{"headers":{"Cf-Aig-Authorization":"Bearer gw-SECRET-1"}}`, "Bearer gw-SECRET-1")
	f.Add("Post \"http://h/?key=abc%2Fdef\": EOF", "abc/def")
	f.Fuzz(func(t *testing.T, text, known string) {
		r := secret.New(known)
		got := r.String(text)
		k := strings.TrimSpace(known)
		if len(k) >= secret.MinKnownLen && !strings.Contains(secret.Mask(k), k) && !strings.Contains(secret.Prefix, k) &&
			strings.Contains(got, k) && !strings.Contains(text, secret.Prefix) {
			t.Errorf("String(%q) = %q: the known value %q survived", text, got, k)
		}
		if again := r.String(got); again != got {
			t.Errorf("not idempotent: %q then %q", got, again)
		}
	})
}

// BenchmarkRedactorString: the cost of masking one long error message
// full of ellipses (a hostile server's body), per failed request.
func BenchmarkRedactorString(b *testing.B) {
	r := secret.New("sk-live-0123456789abcdefXYZ-0123456789abcdefXYZ", "Bearer gateway-token-0123456789", "custom-header-value")
	msg := "HTTP 401: " + strings.Repeat("sk-live-01... ", 2048/14)
	b.ReportAllocs()
	for b.Loop() {
		_ = r.String(msg)
	}
}
