package analysis_test

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/results"
)

func failed(kind results.ErrorKind, msg string) *results.Record {
	return &results.Record{Error: &results.Error{Kind: kind, Message: msg}}
}

// TestFailuresGrouping checks which messages count as one failure: ids and
// numbers are set aside, HTTP statuses and kinds are not, and the groups
// come most common first.
func TestFailuresGrouping(t *testing.T) {
	tests := []struct {
		name  string
		recs  []*results.Record
		want  []string // Failure.Line of each top group
		other int64
	}{
		{"nothing failed", nil, nil, 0},
		{"one message", []*results.Record{
			failed(results.KindHTTP4xx, "HTTP 404: 404 page not found"),
			failed(results.KindHTTP4xx, "HTTP 404: 404 page not found"),
		}, []string{"2 × http_4xx: HTTP 404: 404 page not found"}, 0},
		{"request ids differ", []*results.Record{
			failed(results.KindHTTP5xx, `HTTP 500: {"error":"internal","id":"chatcmpl-4f9a2b77"}`),
			failed(results.KindHTTP5xx, `HTTP 500: {"error":"internal","id":"chatcmpl-0c1d2e3f"}`),
			failed(results.KindHTTP5xx, `HTTP 500: {"error":"internal","id":"chatcmpl-99aa88bb"}`),
		}, []string{`3 × http_5xx: HTTP 500: {"error":"internal","id":"chatcmpl-0c1d2e3f"} (and similar)`}, 0},
		{"statuses stay apart", []*results.Record{
			failed(results.KindHTTP4xx, "HTTP 401: unauthorized"),
			failed(results.KindHTTP4xx, "HTTP 404: unauthorized"),
		}, []string{"1 × http_4xx: HTTP 401: unauthorized", "1 × http_4xx: HTTP 404: unauthorized"}, 0},
		{"kinds stay apart", []*results.Record{
			failed(results.KindTimeout, "boom"),
			failed(results.KindStream, "boom"),
		}, []string{"1 × stream_error: boom", "1 × timeout: boom"}, 0},
		{"ports and addresses", []*results.Record{
			failed(results.KindConnect, "dial tcp 127.0.0.1:8000: connect: connection refused"),
			failed(results.KindConnect, "dial tcp 10.0.0.7:9000: connect: connection refused"),
		}, []string{"2 × connect: dial tcp 10.0.0.7:9000: connect: connection refused (and similar)"}, 0},
		{"most common first", []*results.Record{
			failed(results.KindTimeout, "no token within --ttft-timeout 10s"),
			failed(results.KindHTTP429, "HTTP 429: slow down"),
			failed(results.KindHTTP429, "HTTP 429: slow down"),
		}, []string{"2 × http_429: HTTP 429: slow down", "1 × timeout: no token within --ttft-timeout 10s"}, 0},
		{"multi-line bodies fold", []*results.Record{
			failed(results.KindHTTP5xx, "HTTP 502: <html>\n  <body>Bad Gateway</body>\n</html>"),
		}, []string{"1 × http_5xx: HTTP 502: <html> <body>Bad Gateway</body> </html>"}, 0},
		{"canceled and warm-up are not failures", []*results.Record{
			failed(results.KindCanceled, "run stopped before the request finished"),
			{Warmup: true, Error: &results.Error{Kind: results.KindHTTP4xx, Message: "HTTP 404: x"}},
		}, nil, 0},
		{"beyond the top", func() []*results.Record {
			var rs []*results.Record
			for i := range 7 {
				for range 7 - i {
					rs = append(rs, failed(results.KindHTTP4xx, fmt.Sprintf("HTTP 40%d: no", i)))
				}
			}
			return rs
		}(), []string{"7 × http_4xx: HTTP 400: no", "6 × http_4xx: HTTP 401: no", "5 × http_4xx: HTTP 402: no", "4 × http_4xx: HTTP 403: no", "3 × http_4xx: HTTP 404: no"}, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := analysis.NewAccumulator()
			for _, r := range tc.recs {
				if err := a.Append(r); err != nil {
					t.Fatal(err)
				}
			}
			s, err := a.Summary(analysis.RunMeta{})
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == nil {
				if s.Failures != nil {
					t.Fatalf("Failures = %+v, want none", s.Failures)
				}
				return
			}
			var got []string
			for _, f := range s.Failures.Top {
				got = append(got, f.Line())
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("groups:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if s.Failures.Other != tc.other {
				t.Errorf("Other = %d, want %d", s.Failures.Other, tc.other)
			}
		})
	}
}

// TestFailuresBounded: a run whose every failure has a new message keeps a
// bounded number of groups and still counts every failure.
func TestFailuresBounded(t *testing.T) {
	a := analysis.NewAccumulator()
	const n = 5000
	for i := range n {
		// Letters only, so no two messages group together.
		msg := strings.Map(func(r rune) rune { return 'a' + (r-'0')%26 }, fmt.Sprintf("%08d", i))
		if err := a.Append(failed(results.KindStream, "reset "+msg+strings.Repeat("x", 5000))); err != nil {
			t.Fatal(err)
		}
	}
	s, err := a.Summary(analysis.RunMeta{})
	if err != nil {
		t.Fatal(err)
	}
	f := s.Failures
	var total int64
	for _, g := range f.Top {
		total += g.Count
		if len(g.Message) > 400 {
			t.Errorf("message of %d bytes kept; want it clipped", len(g.Message))
		}
	}
	if total+f.Other != n {
		t.Errorf("top %d + other %d = %d failures, want %d", total, f.Other, total+f.Other, n)
	}
	if f.Groups > 300 {
		t.Errorf("%d groups kept, want a bound", f.Groups)
	}
}

func TestFailureHint(t *testing.T) {
	tests := []struct {
		kind, msg, url string
		want           string // a fragment of the hint; "" for none
	}{
		{"http_4xx", "HTTP 404: 404 page not found", "http://h/v1/v1/chat/completions", "repeats /v1"},
		{"http_4xx", "HTTP 404: 404 page not found", "http://h/v1/chat/completions", "--endpoint"},
		{"http_4xx", `HTTP 404: {"message":"The model x does not exist."}`, "", "--model"},
		{"http_4xx", "HTTP 401: bad key", "", "--api-key-env"},
		{"http_4xx", "HTTP 403: forbidden", "", "--api-key-env"},
		{"http_4xx", "HTTP 405: Method Not Allowed", "", "POST"},
		{"http_4xx", "HTTP 400: context length exceeded", "", "token lengths"},
		{"http_429", "HTTP 429: slow down", "", "lower --rate"},
		{"connect", "dial tcp 127.0.0.1:1: connect: connection refused", "", "server running"},
		{"protocol", `endpoint did not stream (Content-Type "text/html", want text/event-stream): check --api (openai-chat) and --endpoint`, "", ""},
		{"http_5xx", "HTTP 503: overloaded", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.msg, func(t *testing.T) {
			got := analysis.FailureHint(analysis.Failure{Kind: tc.kind, Message: tc.msg}, tc.url)
			if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
				t.Errorf("FailureHint = %q, want %q", got, tc.want)
			}
		})
	}
}

// FuzzFailureGrouping: any message, however odd, groups without a panic,
// keeps its count, and is kept clipped to valid UTF-8 when it was valid.
func FuzzFailureGrouping(f *testing.F) {
	for _, s := range []string{"HTTP 404: x", "HTTP 4", "HTTP 4041: y", "dial tcp 127.0.0.1:9: refused", "", "\xff\xfe", "é" + strings.Repeat("ü", 400)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		a := analysis.NewAccumulator()
		for range 2 {
			if err := a.Append(failed(results.KindStream, msg)); err != nil {
				t.Fatal(err)
			}
		}
		s, err := a.Summary(analysis.RunMeta{})
		if err != nil {
			t.Fatal(err)
		}
		if s.Failures == nil || len(s.Failures.Top) != 1 || s.Failures.Top[0].Count != 2 {
			t.Fatalf("Failures = %+v, want one group of 2", s.Failures)
		}
		if utf8.ValidString(msg) && !utf8.ValidString(s.Failures.Top[0].Message) {
			t.Errorf("message %q clipped to invalid UTF-8 %q", msg, s.Failures.Top[0].Message)
		}
	})
}
