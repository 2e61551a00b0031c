package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// serverSpec is how the simulator is started: `streamgauge serve
// --scheduler fixed --ttft T --itl G [--truth-log FILE]`.
type serverSpec struct {
	TTFT, ITL time.Duration
	Truth     string // truth-log path, "" for none
}

// server is a running `streamgauge serve` process.
type server struct {
	cmd    *exec.Cmd
	URL    string
	mu     sync.Mutex
	stderr bytes.Buffer
	done   chan error
}

// startServer starts the simulator on a free port and waits until it
// listens.
func startServer(ctx context.Context, bin string, s serverSpec) (*server, error) {
	args := []string{"serve", "--addr", "127.0.0.1:0", "--scheduler", "fixed",
		"--ttft", s.TTFT.String(), "--itl", s.ITL.String()}
	if s.Truth != "" {
		args = append(args, "--truth-log", s.Truth)
	}
	srv := &server{cmd: exec.Command(bin, args...), done: make(chan error, 1)}
	pipe, err := srv.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := srv.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			srv.mu.Lock()
			srv.stderr.WriteString(line + "\n")
			srv.mu.Unlock()
			if _, rest, ok := strings.Cut(line, "listening on "); ok && !sent {
				u, _, _ := strings.Cut(rest, " ")
				urls <- u
				sent = true
			}
		}
		close(urls)
		srv.done <- srv.cmd.Wait()
	}()
	t := time.NewTimer(30 * time.Second)
	defer t.Stop()
	select {
	case u, ok := <-urls:
		if ok {
			srv.URL = u
			return srv, nil
		}
		<-srv.done
		return nil, fmt.Errorf("%s %s exited: %s", bin, strings.Join(args, " "), srv.log())
	case <-t.C:
	case <-ctx.Done():
	}
	srv.cmd.Process.Kill()
	<-srv.done
	return nil, fmt.Errorf("%s serve did not start listening: %s", bin, srv.log())
}

func (s *server) log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.TrimSpace(s.stderr.String())
}

// CPU returns the server's CPU time so far.
func (s *server) CPU() time.Duration { return pidCPU(s.cmd.Process.Pid) }

// Stop interrupts the server (it closes its truth log) and waits for it.
func (s *server) Stop() error {
	s.cmd.Process.Signal(os.Interrupt)
	t := time.NewTimer(15 * time.Second)
	defer t.Stop()
	select {
	case err := <-s.done:
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			return err
		}
		return nil
	case <-t.C:
		s.cmd.Process.Kill()
		<-s.done
		return fmt.Errorf("server did not stop on interrupt; killed")
	}
}

// spawnChild runs one client in a child process.
func spawnChild(ctx context.Context, spec childSpec, stderr io.Writer) (*childResult, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self, "child", string(b))
	var out bytes.Buffer
	var errb bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = io.MultiWriter(&errb, prefixWriter{stderr})
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("%s client: %w: %s", spec.Client, err, lastLines(errb.String(), 5))
	}
	var res childResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		return nil, fmt.Errorf("%s client: result: %w", spec.Client, err)
	}
	return &res, nil
}

// prefixWriter passes a child's log lines through, marked as the child's.
type prefixWriter struct{ w io.Writer }

func (p prefixWriter) Write(b []byte) (int, error) {
	for line := range strings.Lines(string(b)) {
		fmt.Fprintf(p.w, "    | %s", line)
	}
	return len(b), nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "; ")
}
