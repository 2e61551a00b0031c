package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/streamgauge/streamgauge/internal/secret"
)

// runCLI runs the command in-process with a fake environment.
func runCLI(t *testing.T, vars map[string]string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdout: &out, stderr: &errb, getenv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }}
	root := newRoot(e)
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errb)
	err := root.ExecuteContext(context.Background())
	if err != nil {
		printError(&errb, err)
	}
	return result{out.String(), errb.String(), codeOf(err)}
}

func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	badKey := filepath.Join(dir, "bad.yaml")
	os.WriteFile(badKey, []byte("rate: 5\nrequests: 3\noutput-tokenz: 12\n"), 0o644)
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "overloaded", http.StatusServiceUnavailable)
	}))
	defer failing.Close()

	tests := []struct {
		name string
		args []string
		code int
		// want is a substring of stderr; the error must be one line per problem.
		want string
	}{
		{"unknown flag", []string{"run", "--rat", "5"}, exitUsage, "unknown flag: --rat"},
		{"bad flag value", []string{"run", "--rate", "fast"}, exitUsage, "--rate: \"fast\" is not a number"},
		{"negative rate", []string{"run", "--rate", "-1", "--requests", "5"}, exitUsage, "rate: -1 must be positive"},
		{"no load", []string{"run", "--requests", "5"}, exitUsage, "rate: give --rate R"},
		{"no end", []string{"run", "--rate", "5"}, exitUsage, "duration: give --duration D, --requests N, or both"},
		{"rate and concurrency", []string{"run", "--rate", "5", "--concurrency", "2", "--requests", "1"}, exitUsage, "not both"},
		{"bad dist", []string{"run", "--rate", "5", "--requests", "1", "--input-tokens", "uniform:9,1"}, exitUsage, "input-tokens:"},
		{"bad api", []string{"run", "--rate", "5", "--requests", "1", "--api", "grpc"}, exitUsage, "api: \"grpc\" is not supported"},
		{"bad target", []string{"run", "--rate", "5", "--requests", "1", "--target", "localhost:8000"}, exitUsage, "target: \"localhost:8000\" is not a base URL"},
		{"unknown profile", []string{"run", "nosuchprofile"}, exitUsage, "profile \"nosuchprofile\": not a built-in profile"},
		{"unknown profile key", []string{"run", badKey}, exitUsage, "unknown key \"output-tokenz\" (did you mean \"output-tokens\"?)"},
		{"too many args", []string{"run", "a", "b"}, exitUsage, "accepts at most 1 arg"},
		{"missing api key", []string{"run", "--rate", "5", "--requests", "1", "--api-key-env", "NOPE_KEY"}, exitUsage, "NOPE_KEY is not set"},
		{"start-at in the past", []string{"run", "--rate", "5", "--requests", "1", "--start-at", "2020-01-01T00:00:00Z", "--out", filepath.Join(dir, "late")}, exitUsage, "in the past: the whole schedule up to now would be sent at once; give a time in the future"},
		{"unreachable target", []string{"run", "--rate", "5", "--requests", "1", "--target", "http://" + closedPort(t)}, exitRun, "is unreachable"},
		{"every request failed", []string{"run", "--rate", "50", "--requests", "5", "--target", failing.URL, "--out", filepath.Join(dir, "failing")}, exitRun, "every request failed (5 × http_5xx: HTTP 503: overloaded)"},
		{"ok", []string{"run", "--rate", "50", "--requests", "5", "--output-tokens", "4", "--sim-ttft", "1ms", "--sim-itl", "1ms", "--out", filepath.Join(dir, "ok")}, exitOK, ""},
		{"only warm-up requests", []string{"run", "--rate", "50", "--requests", "3", "--warmup-requests", "3", "--output-tokens", "4", "--sim-ttft", "1ms", "--sim-itl", "1ms", "--out", filepath.Join(dir, "warm")},
			exitRun, "streamgauge: run " + filepath.Join(dir, "warm") + " has no measured request that succeeded (of 3: 3 warm-up): nothing to judge; lengthen the run or shorten --warmup (or --warmup-requests)"},
		{"errors and no SLO", []string{"run", "--rate", "50", "--requests", "20", "--output-tokens", "4", "--sim-ttft", "1ms", "--sim-itl", "1ms",
			"--sim-fail-rate", "0.5", "--sim-fail-kinds", "500", "--out", filepath.Join(dir, "errors")},
			exitOK, "measured requests failed (error rate "},
		{"version", []string{"version"}, exitOK, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, nil, tc.args...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tc.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr %q lacks %q", r.stderr, tc.want)
			}
			for _, bad := range []string{"panic", "goroutine ", "Usage:"} {
				if strings.Contains(r.stderr, bad) {
					t.Errorf("stderr shows %q:\n%s", bad, r.stderr)
				}
			}
			if tc.code != exitOK {
				for _, line := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
					if !strings.HasPrefix(line, "streamgauge: ") {
						t.Errorf("stderr line %q is not a streamgauge message", line)
					}
				}
			}
		})
	}
}

// TestHelpHasExamples checks every command documents itself with an example.
func TestHelpHasExamples(t *testing.T) {
	for _, c := range []string{"run", "serve", "profiles", "version"} {
		r := runCLI(t, nil, c, "--help")
		if r.code != 0 || !strings.Contains(r.stdout, "Examples:") || !strings.Contains(r.stdout, "streamgauge "+c) {
			t.Errorf("%s --help: exit %d, output lacks an example:\n%s", c, r.code, r.stdout)
		}
	}
}

// TestEnvAndProfileLayering checks defaults < file < STREAMGAUGE_* < flags.
func TestEnvAndProfileLayering(t *testing.T) {
	dir := t.TempDir()
	prof := filepath.Join(dir, "p.yaml")
	os.WriteFile(prof, []byte("name: layered\nrate: 50\nrequests: 4\noutput-tokens: 3\nsim-ttft: 1ms\nsim-itl: 1ms\n"), 0o644)
	out := filepath.Join(dir, "run")
	env := map[string]string{"STREAMGAUGE_REQUESTS": "6", "STREAMGAUGE_OUTPUT_TOKENS": "5"}
	r := runCLI(t, env, "run", prof, "--output-tokens", "2", "--out", out)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	recs := readRecords(t, out)
	if len(recs) != 6 {
		t.Errorf("%d requests, want 6 from STREAMGAUGE_REQUESTS over the file's 4", len(recs))
	}
	for _, rec := range recs {
		if rec.OutputTokens != 2 {
			t.Errorf("output tokens %d, want 2 from the flag over env and file", rec.OutputTokens)
		}
	}
}

// TestSecretsStayOut runs against a gateway-style server with an API key,
// a gateway credential under a name that does not look like one
// (cf-aig-authorization), a plain custom header and a password in the
// target URL, where the server quotes every request header back in a 401
// body and in a stream error event. No secret byte sequence may appear in
// any file of the run, sweep or merged directories, any report of any
// format, or anything printed; header names stay, each value becomes
// redacted:<8 hex of its SHA-256>, and harmless headers stay in clear.
func TestSecretsStayOut(t *testing.T) {
	const (
		key    = "sk-test-SECRET-0123456789"
		gwHdr  = "Bearer GW-SECRET-aig-42"
		custom = "custom-SECRET-value"
		pass   = "TARGET-SECRET-pw"
	)
	secrets := []string{key, "GW-SECRET", "custom-SECRET", "TARGET-SECRET"}
	var seen atomic.Int64
	var gotMu sync.Mutex
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotMu.Lock()
		got = r.Header.Clone()
		gotMu.Unlock()
		echo, _ := json.Marshal(r.Header)
		switch seen.Add(1) % 3 {
		case 1: // a proxy that quotes what it rejected
			http.Error(w, `{"error":"unauthorized","request_headers":`+string(echo)+`}`, http.StatusUnauthorized)
		case 2: // an error event mid-stream, quoting the credential
			w.Header().Set("Content-Type", "text/event-stream")
			msg, _ := json.Marshal("upstream rejected " + r.Header.Get("Authorization") + " via " + r.Header.Get("Cf-Aig-Authorization") + " for " + r.Header.Get("X-Custom"))
			fmt.Fprintf(w, "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\ndata: {\"error\":{\"message\":%s}}\n\n", msg)
		default:
			w.Header().Set("Content-Type", "text/event-stream")
			w.Write([]byte("data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\ndata: [DONE]\n\n"))
		}
	}))
	defer srv.Close()
	target := strings.Replace(srv.URL, "http://", "http://bench:"+pass+"@", 1)
	root := t.TempDir()
	out := filepath.Join(root, "run")
	vars := map[string]string{"MY_KEY": key}
	flags := []string{"--target", target, "--api-key-env", "MY_KEY", "--header", "cf-aig-authorization: " + gwHdr,
		"--header", "X-Custom: " + custom, "--header", "User-Agent: bench-ua/1", "--input-tokens", "16", "--output-tokens", "4"}
	r := runCLI(t, vars, append([]string{"run", "--rate", "50", "--requests", "6", "--out", out}, flags...)...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	gotMu.Lock()
	if got.Get("Authorization") != "Bearer "+key || got.Get("Cf-Aig-Authorization") != gwHdr || got.Get("X-Custom") != custom {
		t.Errorf("target did not receive the credentials: %v", got)
	}
	gotMu.Unlock()
	outputs := []string{r.stdout, r.stderr}
	// Every output format of report, check and compare, written into the
	// run directory so the walk below reads them too.
	for _, f := range []string{"table", "markdown", "json", "csv", "html", "hdrlog", "png"} {
		rr := runCLI(t, nil, "report", out, "--format", f, "-o", filepath.Join(out, "report-out."+f))
		if rr.code != 0 {
			t.Errorf("report --format %s: exit %d %s", f, rr.code, rr.stderr)
		}
		outputs = append(outputs, rr.stdout, rr.stderr)
	}
	for _, f := range []string{"table", "markdown", "json"} {
		rc := runCLI(t, nil, "check", out, "--slo", "ttft.p99<10s", "--format", f, "--junit", filepath.Join(out, "junit-"+f+".xml"))
		outputs = append(outputs, rc.stdout, rc.stderr)
		rp := runCLI(t, nil, "compare", out, out, "--format", f, "--html", filepath.Join(out, "compare-"+f+".html"))
		outputs = append(outputs, rp.stdout, rp.stderr)
	}
	// Shards and their merge, and a sweep, with the same settings.
	var shards []string
	for i := range 2 {
		dir := filepath.Join(root, fmt.Sprintf("shard-%d", i))
		rs := runCLI(t, vars, append([]string{"run", "--rate", "50", "--requests", "6", "--shard", fmt.Sprintf("%d/2", i), "--out", dir}, flags...)...)
		outputs = append(outputs, rs.stdout, rs.stderr)
		shards = append(shards, dir)
	}
	rm := runCLI(t, nil, "merge", shards[0], shards[1], "-o", filepath.Join(root, "merged"))
	outputs = append(outputs, rm.stdout, rm.stderr)
	for _, f := range []string{"html", "markdown"} {
		rr := runCLI(t, nil, "report", filepath.Join(root, "merged"), "--format", f, "-o", filepath.Join(root, "merged", "report-out."+f))
		outputs = append(outputs, rr.stdout, rr.stderr)
	}
	rw := runCLI(t, vars, append([]string{"sweep", "--rates", "20", "--stage-duration", "300ms", "--cooldown", "0", "--format", "markdown",
		"--out", filepath.Join(root, "sweep")}, flags...)...)
	outputs = append(outputs, rw.stdout, rw.stderr)

	for _, s := range outputs {
		for _, sec := range secrets {
			if strings.Contains(s, sec) {
				t.Errorf("secret %q printed: %s", sec, s)
			}
		}
	}
	files := 0
	filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		files++
		b, _ := os.ReadFile(p)
		for _, sec := range secrets {
			if bytes.Contains(b, []byte(sec)) {
				t.Errorf("%s contains the secret %q", p, sec)
			}
		}
		return nil
	})
	if files < 30 {
		t.Errorf("only %d output files were checked", files)
	}
	// Names stay, values become short hashes (two runs can be told apart),
	// harmless values stay in clear.
	info, err := os.ReadFile(filepath.Join(out, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"cf-aig-authorization: " + secret.Mask(gwHdr), "X-Custom: " + secret.Mask(custom), "User-Agent: bench-ua/1", "http://redacted:"} {
		if !bytes.Contains(info, []byte(want)) {
			t.Errorf("run.json lacks %q:\n%s", want, info)
		}
	}
	recs, err := os.ReadFile(filepath.Join(out, "requests.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"HTTP 401", secret.Mask(custom), "upstream rejected"} {
		if !bytes.Contains(recs, []byte(want)) {
			t.Errorf("requests.jsonl lacks %q (the error messages must stay useful):\n%s", want, recs)
		}
	}
}

// TestUsageErrorsQuoteNoSecret: a setting given wrong is named in the
// error without the credential in it.
func TestUsageErrorsQuoteNoSecret(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"header without a colon", []string{"--header", "Authorization Bearer tok-SECRET-1"}, `header: "Authorization redacted:`},
		{"target with a password and the API path", []string{"--target", "https://u:pw-SECRET@h/v1/chat/completions"}, `target: "https://redacted:`},
		{"key in a target query", []string{"--target", "https://h/v1/completions?key=q-SECRET"}, "key=redacted:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, nil, append([]string{"run", "--rate", "5", "--requests", "1"}, tt.args...)...)
			if r.code != exitUsage || strings.Contains(r.stdout+r.stderr, "SECRET") || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q: want exit %d, %q and no secret", r.code, r.stderr, exitUsage, tt.want)
			}
		})
	}
}
