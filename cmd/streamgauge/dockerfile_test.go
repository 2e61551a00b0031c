package main

import (
	"debug/buildinfo"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// dockerBuild is the go build line of the Dockerfile's build stage, parsed:
// its environment assignments and its arguments after "go".
type dockerBuild struct {
	env  map[string]string
	args []string
}

// parseDockerfile reads the repository's Dockerfile: its ARG defaults, the
// RUN line that calls go build (continuations joined, ${ARG}s expanded) and
// the final stage's lines.
func parseDockerfile(t *testing.T, path string) (dockerBuild, []string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	cur := ""
	for l := range strings.SplitSeq(string(b), "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "#") {
			continue
		}
		if s, ok := strings.CutSuffix(l, "\\"); ok {
			cur += s + " "
			continue
		}
		if cur+l != "" {
			lines = append(lines, cur+l)
		}
		cur = ""
	}
	args := map[string]string{}
	var build dockerBuild
	var final []string
	for _, l := range lines {
		word, rest, _ := strings.Cut(l, " ")
		switch strings.ToUpper(word) {
		case "ARG":
			for a := range strings.FieldsSeq(rest) {
				k, v, _ := strings.Cut(a, "=")
				args[k] = v
			}
		case "FROM":
			final = nil
		case "RUN":
			if !strings.Contains(rest, "go build") {
				break
			}
			words := shellWords(t, os.Expand(rest, func(k string) string { return args[k] }))
			build.env = map[string]string{}
			i := 0
			for ; i < len(words) && strings.Contains(words[i], "=") && !strings.HasPrefix(words[i], "-"); i++ {
				k, v, _ := strings.Cut(words[i], "=")
				build.env[k] = v
			}
			if i+1 >= len(words) || words[i] != "go" || words[i+1] != "build" {
				t.Fatalf("Dockerfile: RUN %s: want [VAR=value ...] go build ...", rest)
			}
			build.args = words[i+1:]
		}
		final = append(final, l)
	}
	if build.args == nil {
		t.Fatal("Dockerfile: no RUN ... go build line")
	}
	return build, final
}

// shellWords splits a command line as sh would for plain words and
// single- or double-quoted strings.
func shellWords(t *testing.T, s string) []string {
	t.Helper()
	var words []string
	var w strings.Builder
	in, quote := false, byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			w.WriteByte(c)
		case c == '"' || c == '\'':
			quote, in = c, true
		case c == ' ' || c == '\t':
			if in {
				words = append(words, w.String())
				w.Reset()
				in = false
			}
		default:
			w.WriteByte(c)
			in = true
		}
	}
	if quote != 0 {
		t.Fatalf("unbalanced quote in %q", s)
	}
	if in {
		words = append(words, w.String())
	}
	return words
}

// TestDockerfileBuildsAStaticBinary builds streamgauge with the Dockerfile's
// own go build line (no container engine needed) and checks that the
// binary is static: CGO_ENABLED=0 and -trimpath in its build info, no
// program interpreter, no dynamic section, no shared libraries. It also
// checks the final stage runs it as a non-root user.
func TestDockerfileBuildsAStaticBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary again with the Dockerfile's flags")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	build, final := parseDockerfile(t, filepath.Join(root, "Dockerfile"))
	if build.env["CGO_ENABLED"] != "0" {
		t.Errorf("Dockerfile go build: CGO_ENABLED=%q, want 0", build.env["CGO_ENABLED"])
	}
	joined := strings.Join(build.args, " ")
	for _, want := range []string{"-trimpath", "-s -w", "./cmd/streamgauge"} {
		if !strings.Contains(joined, want) {
			t.Errorf("Dockerfile go build %q lacks %q", joined, want)
		}
	}
	stage := strings.Join(final, "\n")
	for _, re := range []string{`(?m)^FROM gcr\.io/distroless/static\S*:nonroot`, `(?m)^USER nonroot`, `(?m)^ENTRYPOINT \["/usr/local/bin/streamgauge"\]`} {
		if !regexp.MustCompile(re).MatchString(stage) {
			t.Errorf("the Dockerfile's final stage does not match %s:\n%s", re, stage)
		}
	}

	bin := filepath.Join(t.TempDir(), "streamgauge")
	args := append([]string(nil), build.args...)
	for i := range args {
		if args[i] == "-o" && i+1 < len(args) {
			args[i+1] = bin // the image's /out/streamgauge
		}
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = os.Environ()
	for k, v := range build.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", joined, err, out)
	}

	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	if settings["CGO_ENABLED"] != "0" || settings["-trimpath"] != "true" {
		t.Errorf("build info: CGO_ENABLED=%q -trimpath=%q, want 0 and true", settings["CGO_ENABLED"], settings["-trimpath"])
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("binary has a %s program header: it is dynamically linked", p.Type)
		}
	}
	if s := f.Section(".dynamic"); s != nil {
		t.Error("binary has a .dynamic section")
	}
	if libs, err := f.ImportedLibraries(); err == nil && len(libs) > 0 {
		t.Errorf("binary needs shared libraries %v", libs)
	}
}
