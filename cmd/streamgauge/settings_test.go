package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/spf13/pflag"

	"github.com/streamgauge/streamgauge/profiles"
)

// TestSettingsErrors checks how wrong settings are refused, wherever they
// are given (a profile file, STREAMGAUGE_* variables, flags) and whatever
// the command: the exit code, and stderr exactly, one line per problem,
// every problem at once, each naming where the value came from. Nothing
// may reach the target or the disk.
func TestSettingsErrors(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		http.Error(w, "no", http.StatusTeapot)
	}))
	defer srv.Close()

	tests := []struct {
		name string
		// file is a profile written to FILE (named in args and want).
		file string
		env  map[string]string
		args []string
		code int
		want []string // stderr lines, without the "streamgauge: " prefix
	}{
		// 1: values that used to be read as something else.
		{name: "durations without a unit in a profile",
			file: "rate: 5\nduration: 10\ntimeout: 30\nwarmup: 2\n",
			args: []string{"run", "FILE"}, code: exitUsage,
			want: []string{
				`profile FILE: duration: "10" has no unit; write 10s (or ms, m, h)`,
				`profile FILE: timeout: "30" has no unit; write 30s (or ms, m, h)`,
				`profile FILE: warmup: "2" has no unit; write 2s (or ms, m, h)`,
			}},
		{name: "every duration key of a profile",
			file: "concurrency: 1\nrequests: 1\nconnect-timeout: 1\nttfb-timeout: 1.5\nttft-timeout: 2\nidle-timeout: 3\nramp-over: 4\nsine-period: 5\ndrain-timeout: 6\nsim-ttft: 7\nsim-itl: 8\n",
			args: []string{"run", "FILE"}, code: exitUsage,
			want: []string{
				`profile FILE: connect-timeout: "1" has no unit; write 1s (or ms, m, h)`,
				`profile FILE: ttfb-timeout: "1.5" has no unit; write 1.5s (or ms, m, h)`,
				`profile FILE: ttft-timeout: "2" has no unit; write 2s (or ms, m, h)`,
				`profile FILE: idle-timeout: "3" has no unit; write 3s (or ms, m, h)`,
				`profile FILE: ramp-over: "4" has no unit; write 4s (or ms, m, h)`,
				`profile FILE: sine-period: "5" has no unit; write 5s (or ms, m, h)`,
				`profile FILE: drain-timeout: "6" has no unit; write 6s (or ms, m, h)`,
				`profile FILE: sim-ttft: "7" has no unit; write 7s (or ms, m, h)`,
				`profile FILE: sim-itl: "8" has no unit; write 8s (or ms, m, h)`,
			}},
		{name: "zero needs no unit", file: "rate: 5\nrequests: 1\nwarmup: 0\nduration: 0\n",
			args: []string{"run", "FILE", "--api", "grpc"}, code: exitUsage,
			want: []string{`api: "grpc" is not supported; want one of openai-chat, openai-completions, openai-responses, anthropic, tgi, ollama, triton, llamacpp, generic`}},
		{name: "negative and odd durations", file: "rate: 5\nrequests: 1\ntimeout: -5s\nduration: 1d\nwarmup: 10 s\nramp-over: -3\n",
			args: []string{"run", "FILE"}, code: exitUsage,
			want: []string{
				`profile FILE: timeout: "-5s" must not be negative`,
				`profile FILE: duration: "1d" is not a duration; days are written in hours, e.g. 24h`,
				`profile FILE: warmup: "10 s" is not a duration; write a number and a unit, e.g. 30s, 500ms or 1m30s`,
				`profile FILE: ramp-over: "-3" must not be negative`,
			}},
		{name: "duration without a unit from the environment",
			env:  map[string]string{"STREAMGAUGE_DURATION": "10", "STREAMGAUGE_TIMEOUT": "-1m"},
			args: []string{"run", "--rate", "5"}, code: exitUsage,
			want: []string{
				`STREAMGAUGE_TIMEOUT: "-1m" must not be negative`,
				`STREAMGAUGE_DURATION: "10" has no unit; write 10s (or ms, m, h)`,
			}},
		{name: "duration without a unit as a flag", args: []string{"run", "--rate", "5", "--duration", "10", "--sim-itl", "-1ms"}, code: exitUsage,
			want: []string{
				`--duration: "10" has no unit; write 10s (or ms, m, h)`,
				`--sim-itl: "-1ms" must not be negative`,
			}},
		{name: "numbers, whole numbers and booleans in a profile",
			file: "rate: 5/s\nrequests: 1.5\ninsecure: yes\nseed: -1\nconcurrency: 1e30\nburstiness: .nan\nmax-concurrency: four\nprefix-share: 1e400\n",
			args: []string{"run", "FILE"}, code: exitUsage,
			want: []string{
				`profile FILE: rate: "5/s" is not a number`,
				`profile FILE: requests: "1.5" is not a whole number`,
				`profile FILE: insecure: "yes" is not true or false`,
				`profile FILE: seed: "-1" must not be negative`,
				`profile FILE: concurrency: "1e30" is too large`,
				`profile FILE: burstiness: ".nan" is not a number`,
				`profile FILE: max-concurrency: "four" is not a number; want a whole number`,
				`profile FILE: prefix-share: "1e400" is out of range`,
			}},
		{name: "lists and blocks where one value is wanted", file: "rate: [5, 6]\nrequests: {n: 3}\nslo: {a: b}\nstages: [[1]]\n",
			args: []string{"run", "FILE"}, code: exitUsage,
			want: []string{
				`profile FILE: rate: is a list; want a number`,
				`profile FILE: requests: is a block of keys; want a whole number`,
				`profile FILE: slo: is a block of keys; want a list of values`,
				`profile FILE: stages[0]: want one value (text)`,
			}},
		{name: "bad values from the environment",
			env:  map[string]string{"STREAMGAUGE_RATE": "abc", "STREAMGAUGE_INSECURE": "yes", "STREAMGAUGE_REQUESTS": "-3"},
			args: []string{"run"}, code: exitUsage,
			want: []string{
				`STREAMGAUGE_INSECURE: "yes" is not true or false`,
				`STREAMGAUGE_RATE: "abc" is not a number`,
				`STREAMGAUGE_REQUESTS: "-3" must not be negative`,
			}},
		{name: "bad values as flags", args: []string{"run", "--rate", "abc", "--insecure=yes", "--requests", "1.5", "--concurrency", "2x"}, code: exitUsage,
			want: []string{
				`--insecure: "yes" is not true or false`,
				`--rate: "abc" is not a number`,
				`--concurrency: "2x" is not a number; want a whole number`,
				`--requests: "1.5" is not a whole number`,
			}},
		{name: "a flag wins over its variable, which is not read",
			env:  map[string]string{"STREAMGAUGE_RATE": "abc"},
			args: []string{"run", "--rate", "5", "--requests", "1", "--api", "grpc"}, code: exitUsage,
			want: []string{`api: "grpc" is not supported; want one of openai-chat, openai-completions, openai-responses, anthropic, tgi, ollama, triton, llamacpp, generic`}},

		// 2: every problem of a profile at once, naming the key.
		{name: "three misspelled keys at once", file: "rat: 5\nduraton: 10s\noutput_tokens: 3\n",
			args: []string{"run", "FILE"}, code: exitUsage,
			want: []string{
				`profile FILE: unknown key "rat" (did you mean "rate"?)`,
				`profile FILE: unknown key "duraton" (did you mean "duration"?)`,
				`profile FILE: unknown key "output_tokens" (did you mean "output-tokens"?)`,
			}},
		{name: "file, variable and flag problems together", file: "rate: fast\nunknwn: 1\nkind: Pod\n",
			env:  map[string]string{"STREAMGAUGE_WARMUP": "3"},
			args: []string{"run", "FILE", "--requests", "x"}, code: exitUsage,
			want: []string{
				`profile FILE: unknown key "unknwn" (the keys are the flags of streamgauge run --help)`,
				`profile FILE: unknown key "kind" (the keys are the flags of streamgauge run --help)`,
				`profile FILE: rate: "fast" is not a number`,
				`STREAMGAUGE_WARMUP: "3" has no unit; write 3s (or ms, m, h)`,
				`--requests: "x" is not a number; want a whole number`,
			}},
		{name: "a key given twice", file: "rate: 5\nrequests: 3\nrate: 6\n",
			args: []string{"run", "FILE"}, code: exitUsage,
			want: []string{`profile FILE: rate: given twice (lines 1 and 3); keep one`}},
		{name: "SLO and goodput errors name their key and file",
			file: "rate: 5\nrequests: 3\nslo: ['ttft.p99<abc', 'e2e.p99<1s']\ngoodput: ttfx<1s\n",
			args: []string{"run", "FILE"}, code: exitUsage,
			want: []string{
				`profile FILE: slo: ttft.p99<abc: want a number with a unit, e.g. 500ms (column 10: "abc")`,
				`profile FILE: goodput: ttfx<1s: unknown metric ttfx (did you mean ttft?) (column 1: "ttfx")`,
			}},
		{name: "SLO errors name their variable", env: map[string]string{"STREAMGAUGE_SLO": "ttft.p99<1s;itl.p99<5"},
			args: []string{"run", "--rate", "5", "--requests", "1"}, code: exitUsage,
			want: []string{`slo: itl.p99<5: 5 has no unit; a latency threshold needs us, ms or s (e.g. 5ms) (column 9: "5") (set by STREAMGAUGE_SLO)`}},
		{name: "SLO errors of flags read as check prints them", args: []string{"run", "--rate", "5", "--requests", "1", "--slo", "ttft.p99<500", "--goodput", "x<1s"}, code: exitUsage,
			want: []string{
				`--slo ttft.p99<500: 500 has no unit; a latency threshold needs us, ms or s (e.g. 500ms) (column 10: "500")`,
				`--goodput x<1s: x is not a per-request metric; goodput conditions take ttft, ttfo, ttfb, tpot, e2e, lag (column 1: "x")`,
			}},
		{name: "checks of values name the file", file: "rate: -1\nrequests: 3\nsim-fail-rate: 2\ntrace-window: 600:900\n",
			args: []string{"run", "FILE", "--api", "grpc"}, code: exitUsage,
			want: []string{
				`api: "grpc" is not supported; want one of openai-chat, openai-completions, openai-responses, anthropic, tgi, ollama, triton, llamacpp, generic`,
				`profile FILE: rate: -1 must be positive`,
				`profile FILE: trace-window: "600:900" applies to --trace only`,
				`profile FILE: sim-fail-rate: 2 must be in [0, 1]`,
			}},
		{name: "trace window without units", args: []string{"run", "--trace", "x.csv", "--trace-window", "600:900"}, code: exitUsage,
			want: []string{`trace-window: "600:900": start "600" has no unit; write 600s (or ms, m, h)`}},
		{name: "simulator errors name run's flags", args: []string{"run", "--rate", "5", "--requests", "1", "--sim-fail-rate", "0.5", "--sim-fail-kinds", ","}, code: exitUsage,
			want: []string{`sim-fail-kinds: a --sim-fail-rate needs at least one kind (429,500,stream,drop)`}},
		{name: "nested keys", file: "rate: 5\nrequests: 3\napi: generic\ngeneric: {framming: sse, usage: {prompt: [a]}}\n",
			args: []string{"run", "FILE"}, code: exitUsage,
			want: []string{
				`profile FILE: generic: unknown key "framming" (did you mean "framing"?)`,
				`profile FILE: generic.usage.prompt: is a list; want one value`,
			}},
		{name: "not a mapping", file: "- rate\n- 5\n", args: []string{"run", "FILE"}, code: exitUsage,
			want: []string{`profile FILE: want keys and values (rate: 5), one per line`}},
		{name: "not YAML", file: "rate: [5\n", args: []string{"run", "FILE"}, code: exitUsage,
			want: []string{`profile FILE: not valid YAML: line 1: did not find expected ',' or ']'`}},
		{name: "metrics address without a port", args: []string{"run", "--rate", "5", "--requests", "1", "--metrics-addr", "localhost"}, code: exitUsage,
			want: []string{`metrics-addr: "localhost": want HOST:PORT, e.g. 127.0.0.1:8000 (or :8000 for every interface)`}},
		{name: "sweep reads settings the same way", file: "rate: 5\nduration: 10\n",
			args: []string{"sweep", "FILE", "--rates", "1,2"}, code: exitUsage,
			want: []string{`profile FILE: duration: "10" has no unit; write 10s (or ms, m, h)`}},

		// 8: the command line itself.
		{name: "unknown command", args: []string{"runn"}, code: exitUsage,
			want: []string{`unknown command "runn" (did you mean "run"?); see streamgauge --help`}},
		{name: "unknown command with flags", args: []string{"prfiles", "--rate", "5"}, code: exitUsage,
			want: []string{`unknown command "prfiles" (did you mean "profiles"?); see streamgauge --help`}},
		{name: "unknown command, nothing near", args: []string{"frobnicate"}, code: exitUsage,
			want: []string{`unknown command "frobnicate"; see streamgauge --help`}},
		{name: "unknown help topic", args: []string{"help", "sweeep"}, code: exitUsage,
			want: []string{`unknown command "sweeep" (did you mean "sweep"?); see streamgauge --help`}},
		{name: "misspelled flag", args: []string{"run", "--rat", "5"}, code: exitUsage,
			want: []string{`unknown flag: --rat (did you mean --rate?); see streamgauge run --help`}},
		{name: "flag with underscores", args: []string{"sweep", "--input_tokens", "5"}, code: exitUsage,
			want: []string{`unknown flag: --input_tokens (did you mean --input-tokens?); see streamgauge sweep --help`}},
		{name: "misspelled flag of serve", args: []string{"serve", "--shceduler", "fcfs"}, code: exitUsage,
			want: []string{`unknown flag: --shceduler (did you mean --scheduler?); see streamgauge serve --help`}},
		{name: "short unknown flag, nothing near", args: []string{"run", "--xyzw", "5"}, code: exitUsage,
			want: []string{`unknown flag: --xyzw; see streamgauge run --help`}},
		{name: "serve --port", args: []string{"serve", "--port", "8000"}, code: exitUsage,
			want: []string{`unknown flag: --port (the address is --addr HOST:PORT, e.g. --addr 127.0.0.1:8000); see streamgauge serve --help`}},
		{name: "misspelled built-in profile", args: []string{"run", "demoo"}, code: exitUsage,
			want: []string{`profile "demoo": not a built-in profile (agent, burst, chat, code, demo, rag, reasoning, replay-azure-conv, summarize) and no such file; did you mean "demo"?`}},
		{name: "bad value of a non-profile flag", args: []string{"sweep", "--rates", "1", "--cooldown", "5"}, code: exitUsage,
			want: []string{`--cooldown: "5" has no unit; write 5s (or ms, m, h)`}},
		{name: "serve --addr without a port", args: []string{"serve", "--addr", "localhost"}, code: exitUsage,
			want: []string{`--addr "localhost": want HOST:PORT, e.g. 127.0.0.1:8000 (or :8000 for every interface)`}},
		{name: "serve --addr with a bad port", args: []string{"serve", "--addr", "127.0.0.1:http1"}, code: exitUsage,
			want: []string{`--addr "127.0.0.1:http1": port "http1" is not a number from 0 to 65535`}},
		{name: "serve duration without a unit", args: []string{"serve", "--ttft", "80"}, code: exitUsage,
			want: []string{`--ttft: "80" has no unit; write 80s (or ms, m, h)`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "my.yaml")
			if tc.file != "" {
				if err := os.WriteFile(path, []byte(tc.file), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			args := slices.Clone(tc.args)
			for i, a := range args {
				args[i] = strings.ReplaceAll(a, "FILE", path)
			}
			out := filepath.Join(dir, "out")
			if args[0] == "run" || args[0] == "sweep" {
				if !slices.Contains(args, "--api") && !slices.Contains(args, "--target") && !strings.Contains(tc.file, "sim-") &&
					!slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--sim-") }) {
					args = append(args, "--target", srv.URL)
				}
				args = append(args, "--out", out)
			}
			before := hits.Load()
			r := runCLI(t, tc.env, args...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d", r.code, tc.code)
			}
			var want []string
			for _, w := range tc.want {
				want = append(want, "streamgauge: "+strings.ReplaceAll(w, "FILE", path))
			}
			got := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
			if !slices.Equal(got, want) {
				t.Errorf("stderr:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if r.stdout != "" {
				t.Errorf("stdout: %q", r.stdout)
			}
			if n := hits.Load() - before; n != 0 {
				t.Errorf("%d requests reached the target", n)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s was written", out)
			}
		})
	}
}

// TestVersionFlag checks --version prints what the version command prints.
func TestVersionFlag(t *testing.T) {
	a, b := runCLI(t, nil, "--version"), runCLI(t, nil, "version")
	if a.code != 0 || b.code != 0 || a.stdout != b.stdout || a.stdout != "streamgauge "+version+"\n" || a.stderr != "" {
		t.Errorf("--version: exit %d %q %q; version: exit %d %q", a.code, a.stdout, a.stderr, b.code, b.stdout)
	}
}

// TestHelpNamesOwnFlags checks that a command's help mentions only flags it
// has: `serve --help` once pointed at flags only run has.
func TestHelpNamesOwnFlags(t *testing.T) {
	flagRE := regexp.MustCompile(`(?:^|[\s(\[,'"])--([a-z][a-z0-9-]*)`)
	for _, c := range []string{"run", "serve", "sweep", "profiles", "version"} {
		r := runCLI(t, nil, c, "--help")
		cmd, _, err := newRoot(&env{getenv: func(string) (string, bool) { return "", false }}).Find([]string{c})
		if err != nil || r.code != 0 {
			t.Fatalf("%s --help: exit %d, %v", c, r.code, err)
		}
		other := regexp.MustCompile(`streamgauge ([a-z]+)`)
		for _, line := range strings.Split(r.stdout, "\n") {
			if m := other.FindStringSubmatch(line); m != nil && m[1] != c {
				continue // an example of another command, with its flags
			}
			for _, m := range flagRE.FindAllStringSubmatch(line, -1) {
				if name := m[1]; name != "help" && cmd.Flags().Lookup(name) == nil {
					t.Errorf("%s --help mentions --%s, which %s does not have", c, name, c)
				}
			}
		}
	}
}

// TestStopMessage checks the first Ctrl-C names --drain-timeout only to
// commands that have it.
func TestStopMessage(t *testing.T) {
	root := newRoot(&env{getenv: func(string) (string, bool) { return "", false }})
	for _, tc := range []struct {
		args  []string
		drain bool
	}{{[]string{"run", "demo"}, true}, {[]string{"sweep", "--auto"}, true}, {[]string{"serve"}, false}, {[]string{"nosuch"}, false}} {
		if got := hasDrain(root, tc.args); got != tc.drain {
			t.Errorf("%v: hasDrain = %v", tc.args, got)
		}
	}
}

// TestEveryProfileKeyIsAFlag checks every profile key but the generic block
// has a flag with help text, and the flags keep their help and defaults.
func TestEveryProfileKeyIsAFlag(t *testing.T) {
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	addProfileFlags(fs)
	for _, k := range profiles.Keys() {
		f := fs.Lookup(k)
		if k == "generic" {
			if f != nil {
				t.Errorf("generic is a flag")
			}
			continue
		}
		if f == nil || f.Usage == "" {
			t.Errorf("key %s has no flag with help", k)
		}
	}
	if len(profileUsage) != len(profiles.Keys())-1 {
		t.Errorf("%d help texts for %d keys", len(profileUsage), len(profiles.Keys())-1)
	}
	for name, def := range map[string]string{"timeout": "5m0s", "api": "openai-chat", "rate": "", "ignore-eos": "true", "seed": "1", "burstiness": "1"} {
		if got := fs.Lookup(name).DefValue; got != def {
			t.Errorf("--%s default %q, want %q", name, got, def)
		}
	}
}

// TestUnknownVariables checks a misspelled STREAMGAUGE_* variable is
// named, with the nearest setting's, instead of being ignored unseen.
func TestUnknownVariables(t *testing.T) {
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	addProfileFlags(fs)
	got := unknownVariables(fs, []string{"HOME=/root", "STREAMGAUGE_RATE=5", "STREAMGAUGE_QUIET=1", "STREAMGAUGE_DURATON=10s",
		"STREAMGAUGE_INPUT-TOKENS=5", "STREAMGAUGE_GENERIC=x", "STREAMGAUGE_ZZZZZZZZZZZZZZZ=1"})
	want := []string{
		"STREAMGAUGE_DURATON is not a setting (did you mean STREAMGAUGE_DURATION?); it is ignored",
		"STREAMGAUGE_GENERIC: generic can only be set in a profile file; it is ignored",
		"STREAMGAUGE_INPUT-TOKENS is not a setting (did you mean STREAMGAUGE_INPUT_TOKENS?); it is ignored",
		"STREAMGAUGE_ZZZZZZZZZZZZZZZ is not a setting; it is ignored",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Through the command line: a warning, then the run goes on.
	var out, errb strings.Builder
	e := &env{stdout: &out, stderr: &errb, getenv: func(string) (string, bool) { return "", false },
		environ: func() []string { return []string{"STREAMGAUGE_RAT=5"} }}
	root := newRoot(e)
	root.SetArgs([]string{"run", "--requests", "1"})
	err := root.Execute()
	if err == nil || codeOf(err) != exitUsage || errb.String() != "streamgauge: STREAMGAUGE_RAT is not a setting (did you mean STREAMGAUGE_RATE?); it is ignored\n" {
		t.Errorf("exit %d, stderr %q", codeOf(err), errb.String())
	}
}
