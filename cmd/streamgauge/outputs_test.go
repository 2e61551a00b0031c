package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/creack/pty"
)

// TestOutputPathsCheckedFirst: every output path of every command is
// checked before any work, so a wrong one is a usage error (exit 2) with
// one line naming the flag, the path and why, and no request is sent.
func TestOutputPathsCheckedFirst(t *testing.T) {
	root := t.TempDir()
	run := fakeRun{n: 50, ttftMS: 100, itlMS: 10, seed: 1, summary: true}.write(t, filepath.Join(root, "run"))
	file := filepath.Join(root, "afile")
	os.WriteFile(file, []byte("x"), 0o644)
	nodir := filepath.Join(root, "nodir")
	var sent atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		sent.Add(1)
		http.Error(w, "no", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	load := []string{"--target", srv.URL, "--rate", "50", "--requests", "3", "--quiet"}
	sweep := []string{"sweep", "--target", srv.URL, "--rates", "1", "--stage-duration", "1s"}

	tests := []struct {
		name string
		args []string
		want []string // one line each, in order
	}{
		{"run --junit", append([]string{"run", "--junit", filepath.Join(nodir, "x.xml"), "--out", filepath.Join(root, "r1")}, load...),
			[]string{"--junit " + nodir + "/x.xml: directory " + nodir + " does not exist; create it first"}},
		{"run --markdown is a directory", append([]string{"run", "--markdown", root, "--out", filepath.Join(root, "r2")}, load...),
			[]string{"--markdown " + root + ": is a directory; give a file name"}},
		{"run --out under a file", append([]string{"run", "--out", filepath.Join(file, "r")}, load...),
			[]string{"--out " + file + "/r: cannot create it: " + file + " is a file, not a directory"}},
		{"run --out is a file", append([]string{"run", "--out", file}, load...),
			[]string{"--out " + file + ": is a file, not a directory; give a directory"}},
		{"run: every bad path at once", append([]string{"run", "--junit", filepath.Join(nodir, "x.xml"), "--markdown", filepath.Join(file, "s.md"), "--out", file}, load...),
			[]string{"--out " + file + ": is a file", "--junit " + nodir + "/x.xml: directory", "--markdown " + file + "/s.md: " + file + " is a file, not a directory"}},
		{"check --junit", []string{"check", run, "--slo", "ttft.p99<1s", "--junit", filepath.Join(nodir, "x.xml")},
			[]string{"--junit " + nodir + "/x.xml: directory " + nodir + " does not exist"}},
		{"check --markdown", []string{"check", run, "--slo", "ttft.p99<1s", "--markdown", root},
			[]string{"--markdown " + root + ": is a directory"}},
		{"compare --html", []string{"compare", run, run, "--html", filepath.Join(nodir, "c.html")},
			[]string{"--html " + nodir + "/c.html: directory " + nodir + " does not exist"}},
		{"compare --markdown", []string{"compare", run, run, "--markdown", filepath.Join(file, "c.md")},
			[]string{"--markdown " + file + "/c.md: " + file + " is a file, not a directory"}},
		{"report -o", []string{"report", run, "-o", filepath.Join(nodir, "r.html")},
			[]string{"-o " + nodir + "/r.html: directory " + nodir + " does not exist"}},
		{"report -o a directory", []string{"report", run, "-o", root},
			[]string{"-o " + root + ": is a directory; give a file name (only --format hdrlog"}},
		{"report hdrlog -o dir under a file", []string{"report", run, "--format", "hdrlog", "-o", file + "/h/"},
			[]string{"-o " + file + "/h/: cannot create it: " + file + " is a file"}},
		{"merge -o", []string{"merge", run, "-o", filepath.Join(file, "m")},
			[]string{"-o " + file + "/m: cannot create it: " + file + " is a file, not a directory"}},
		{"sweep -o", append(sweep, "--out", filepath.Join(root, "s1"), "-o", filepath.Join(nodir, "s.html")),
			[]string{"-o " + nodir + "/s.html: directory " + nodir + " does not exist"}},
		{"sweep --out", append(sweep, "--out", file),
			[]string{"--out " + file + ": is a file, not a directory"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, nil, tc.args...)
			if r.code != exitUsage {
				t.Fatalf("exit %d, want %d\nstderr: %s", r.code, exitUsage, r.stderr)
			}
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			if len(lines) != len(tc.want) {
				t.Fatalf("stderr has %d lines, want %d:\n%s", len(lines), len(tc.want), r.stderr)
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(lines[i], "streamgauge: "+w) {
					t.Errorf("line %d %q, want it to start with %q", i, lines[i], "streamgauge: "+w)
				}
			}
			if n := sent.Load(); n != 0 {
				t.Errorf("%d requests sent before the output path was refused", n)
			}
		})
	}
	for _, gone := range []string{filepath.Join(root, "r1"), filepath.Join(root, "r2"), filepath.Join(root, "s1")} {
		if _, err := os.Stat(gone); err == nil {
			t.Errorf("%s was created by a command that was refused", gone)
		}
	}
}

// TestReportFormatFromOutput: -o's extension names the format, an explicit
// --format may repeat it but not contradict it, an unknown extension
// needs --format, and a PNG never goes to a terminal.
func TestReportFormatFromOutput(t *testing.T) {
	root := t.TempDir()
	run := fakeRun{n: 50, ttftMS: 100, itlMS: 10, seed: 1, summary: true}.write(t, filepath.Join(root, "run"))
	out := func(name string) string { return filepath.Join(root, name) }
	tests := []struct {
		name string
		args []string
		code int
		// file is written and starts with prefix; or want is stderr's one line.
		file, prefix, want string
	}{
		{"html by extension", []string{"-o", out("a.html")}, exitOK, out("a.html"), "<!DOCTYPE html>", ""},
		{"HTM upper case", []string{"-o", out("a.HTM")}, exitOK, out("a.HTM"), "<!DOCTYPE html>", ""},
		{"png by extension", []string{"--plot", "cdf", "-o", out("cdf.png")}, exitOK, out("cdf.png"), "\x89PNG", ""},
		{"markdown by extension", []string{"-o", out("a.md")}, exitOK, out("a.md"), "### streamgauge", ""},
		{"json by extension", []string{"-o", out("a.json")}, exitOK, out("a.json"), "{", ""},
		{"csv by extension", []string{"-o", out("a.csv")}, exitOK, out("a.csv"), "id,", ""},
		{"txt is the table", []string{"-o", out("a.txt")}, exitOK, out("a.txt"), "┌", ""},
		{"no extension keeps --format", []string{"--format", "json", "-o", out("plain")}, exitOK, out("plain"), "{", ""},
		{"matching --format", []string{"--format", "html", "-o", out("b.html")}, exitOK, out("b.html"), "<!DOCTYPE html>", ""},
		{"unknown extension with --format", []string{"--format", "markdown", "-o", out("a.log")}, exitOK, out("a.log"), "### streamgauge", ""},
		{"contradicting --format", []string{"--format", "table", "-o", out("c.html")}, exitUsage, "", "",
			"--format table contradicts -o " + out("c.html") + " (.html is html): drop --format, or end the name in .txt"},
		{"png format into .html", []string{"--format", "png", "-o", out("c.html")}, exitUsage, "", "", "--format png contradicts -o"},
		{"unknown extension", []string{"-o", out("c.pdf")}, exitUsage, "", "", "-o " + out("c.pdf") + `: cannot tell the format from ".pdf"; give --format`},
		{"--plot without png", []string{"--plot", "cdf"}, exitUsage, "", "", "--plot cdf draws a PNG: give -o FILE.png"},
		{"--plot into .html", []string{"--plot", "cdf", "-o", out("d.html")}, exitUsage, "", "", "--plot cdf draws a PNG"},
		{"--metric with table", []string{"--metric", "ttft"}, exitUsage, "", "", "--metric ttft applies to png and hdrlog"},
		{"bad --format", []string{"--format", "pdf"}, exitUsage, "", "", `--format "pdf": want one of table, markdown`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, nil, append([]string{"report", run}, tc.args...)...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\nstderr: %s", r.code, tc.code, r.stderr)
			}
			if tc.want != "" {
				if !strings.HasPrefix(r.stderr, "streamgauge: "+tc.want) || strings.Count(r.stderr, "\n") != 1 {
					t.Errorf("stderr %q, want one line starting %q", r.stderr, "streamgauge: "+tc.want)
				}
			}
			if tc.file != "" {
				b, err := os.ReadFile(tc.file)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(string(b), tc.prefix) {
					t.Errorf("%s starts %q, want %q", tc.file, firstBytes(b), tc.prefix)
				}
			}
		})
	}
	for _, name := range []string{"c.html", "c.pdf", "d.html"} {
		if _, err := os.Stat(out(name)); err == nil {
			t.Errorf("%s written by a refused report", name)
		}
	}

	// A PNG is binary: refused on a terminal, written when stdout is a
	// file or a pipe.
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	defer tty.Close()
	var errb strings.Builder
	e := &env{stdout: tty, stderr: &errb, getenv: func(string) (string, bool) { return "", false }}
	root2 := newRoot(e)
	root2.SetArgs([]string{"report", run, "--format", "png"})
	err = root2.Execute()
	if codeOf(err) != exitUsage || !strings.Contains(err.Error(), "--format png writes a binary image: give -o FILE.png") {
		t.Errorf("png to a terminal: exit %d, %v", codeOf(err), err)
	}
	r := runCLI(t, nil, "report", run, "--format", "png")
	if r.code != exitOK || !strings.HasPrefix(r.stdout, "\x89PNG") {
		t.Errorf("png to a pipe: exit %d, %q", r.code, firstBytes([]byte(r.stdout)))
	}
}

func firstBytes(b []byte) string {
	if len(b) > 16 {
		b = b[:16]
	}
	return string(b)
}

// TestSweepFormatFromOutput: sweep -o follows the same rule as report.
func TestSweepFormatFromOutput(t *testing.T) {
	root := t.TempDir()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-o", filepath.Join(root, "x.png")}, "-o " + root + "/x.png: .png is png, which this command does not write; end the name in .txt, .md, .json, .html"},
		{[]string{"--format", "json", "-o", filepath.Join(root, "x.html")}, "--format json contradicts -o " + root + "/x.html (.html is html)"},
		{[]string{"-o", filepath.Join(root, "x.pdf")}, "-o " + root + `/x.pdf: cannot tell the format from ".pdf"`},
	}
	for _, tc := range tests {
		r := runCLI(t, nil, append([]string{"sweep", "--rates", "1", "--out", filepath.Join(root, "s")}, tc.args...)...)
		if r.code != exitUsage || !strings.HasPrefix(r.stderr, "streamgauge: "+tc.want) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}

// TestWriteFileAtomicKeepsDevices: an output that exists and is not a
// regular file (a named pipe, /dev/stdout) is written in place, not
// replaced by a renamed temporary file.
func TestWriteFileAtomicKeepsDevices(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "pipe")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("no named pipes: %v", err)
	}
	got := make(chan string, 1)
	go func() {
		b, _ := os.ReadFile(fifo)
		got <- string(b)
	}()
	if err := checkOutputs(outputPath{"-o", fifo, outFile}); err != nil {
		t.Fatal(err)
	}
	if err := writeFileAtomic(fifo, func(w io.Writer) error { _, err := io.WriteString(w, "report\n"); return err }); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != "report\n" {
		t.Errorf("the pipe's reader got %q", s)
	}
	if st, err := os.Lstat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the pipe was replaced: %v %v", st.Mode(), err)
	}
}
