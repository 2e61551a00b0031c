package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
		{"bad flag value", []string{"run", "--rate", "fast"}, exitUsage, "invalid argument \"fast\" for \"--rate\""},
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
		{"every request failed", []string{"run", "--rate", "50", "--requests", "5", "--target", failing.URL, "--out", filepath.Join(dir, "failing")}, exitRun, "every request failed (5 http_5xx)"},
		{"ok", []string{"run", "--rate", "50", "--requests", "5", "--output-tokens", "4", "--sim-ttft", "1ms", "--sim-itl", "1ms", "--out", filepath.Join(dir, "ok")}, exitOK, ""},
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

// TestSecretsStayOut runs with an API key and an Authorization header and
// checks that neither appears in any output file or stream.
func TestSecretsStayOut(t *testing.T) {
	const key = "sk-test-SECRET-0123456789"
	const hdr = "Bearer HEADER-SECRET-42"
	var gotAuth []string
	srvKey := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth = append(gotAuth, r.Header.Get("Authorization"), r.Header.Get("X-Custom-Token"))
		w.Header().Set("Content-Type", "text/event-stream")
		w.Write([]byte("data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\ndata: [DONE]\n\n"))
	}))
	defer srvKey.Close()
	out := filepath.Join(t.TempDir(), "run")
	r := runCLI(t, map[string]string{"MY_KEY": key}, "run", "--target", srvKey.URL, "--rate", "50", "--requests", "3",
		"--api-key-env", "MY_KEY", "--header", "X-Custom-Token: "+hdr, "--out", out)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if len(gotAuth) == 0 || gotAuth[0] != "Bearer "+key || gotAuth[1] != hdr {
		t.Errorf("target did not receive the credentials: %q", gotAuth)
	}
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
	for _, s := range outputs {
		if strings.Contains(s, key) || strings.Contains(s, "HEADER-SECRET") {
			t.Errorf("secret printed: %s", s)
		}
	}
	files := 0
	filepath.Walk(out, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		files++
		b, _ := os.ReadFile(p)
		if bytes.Contains(b, []byte(key)) || bytes.Contains(b, []byte("HEADER-SECRET")) {
			t.Errorf("%s contains a secret", p)
		}
		return nil
	})
	if files < 15 {
		t.Errorf("only %d output files were checked", files)
	}
}
