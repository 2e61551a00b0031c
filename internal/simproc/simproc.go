// Package simproc runs the built-in simulator as a child process
// (`streamgauge serve --scheduler fixed ...`), so that its CPU time is its
// own and a client's measurements of it are not mixed with the server's
// work: the load benchmark (bench/loadbench) and `streamgauge doctor` both
// drive it this way.
package simproc

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Spec is how the simulator is started: `BIN serve --addr 127.0.0.1:0
// --scheduler fixed --ttft T --itl G [--truth-log FILE]`.
type Spec struct {
	TTFT, ITL time.Duration
	// Truth is the truth-log path, "" for none.
	Truth string
}

// Args is the command line of the serve process, after the binary.
func (s Spec) Args() []string {
	args := []string{"serve", "--addr", "127.0.0.1:0", "--scheduler", "fixed",
		"--ttft", s.TTFT.String(), "--itl", s.ITL.String()}
	if s.Truth != "" {
		args = append(args, "--truth-log", s.Truth)
	}
	return args
}

// startTimeout bounds how long the server may take to say where it listens.
const startTimeout = 30 * time.Second

// Server is a running `streamgauge serve` process.
type Server struct {
	cmd    *exec.Cmd
	url    string
	mu     sync.Mutex
	stderr bytes.Buffer
	done   chan error
	// stop makes Stop safe to call more than once: done is received once.
	stop    sync.Once
	stopErr error
}

// Start runs bin with the spec's serve command line on a free port and
// waits until it prints the address it listens on ("listening on URL").
func Start(ctx context.Context, bin string, s Spec) (*Server, error) {
	args := s.Args()
	srv := &Server{cmd: exec.Command(bin, args...), done: make(chan error, 1)}
	// The child dies with this process, even when it is killed or exits
	// at once on a third signal without stopping its server (Linux).
	srv.cmd.SysProcAttr = childAttr()
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
		// A line too long for the scanner ends the scan: keep reading,
		// so the server never blocks on a full stderr pipe.
		io.Copy(io.Discard, pipe)
		srv.done <- srv.cmd.Wait()
	}()
	t := time.NewTimer(startTimeout)
	defer t.Stop()
	select {
	case u, ok := <-urls:
		if ok {
			srv.url = u
			return srv, nil
		}
		<-srv.done
		return nil, fmt.Errorf("%s %s exited: %s", bin, strings.Join(args, " "), srv.Log())
	case <-t.C:
	case <-ctx.Done():
	}
	srv.cmd.Process.Kill()
	<-srv.done
	if ctx.Err() != nil {
		return nil, fmt.Errorf("%s serve: %w", bin, ctx.Err())
	}
	return nil, fmt.Errorf("%s serve did not start listening within %s: %s", bin, startTimeout, srv.Log())
}

// URL is the server's base URL (http://127.0.0.1:PORT).
func (s *Server) URL() string { return s.url }

// Pid is the server's process id.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Log returns what the server wrote on stderr so far.
func (s *Server) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.TrimSpace(s.stderr.String())
}

// CPU returns the server's CPU time so far (0 where /proc is missing).
func (s *Server) CPU() time.Duration { return PidCPU(s.cmd.Process.Pid) }

// stopTimeout bounds how long the server may take to stop on an interrupt.
const stopTimeout = 15 * time.Second

// Stop interrupts the server (it closes its truth log) and waits for it;
// one that does not stop in time is killed. Either way the process is
// reaped. Later calls return the first call's result.
func (s *Server) Stop() error {
	s.stop.Do(func() { s.stopErr = s.interrupt() })
	return s.stopErr
}

func (s *Server) interrupt() error {
	s.cmd.Process.Signal(os.Interrupt)
	t := time.NewTimer(stopTimeout)
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
		return fmt.Errorf("server did not stop within %s of an interrupt; killed", stopTimeout)
	}
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times: 100 on every
// Linux architecture Go supports.
const clockTicks = 100

// PidCPU returns the user+system CPU time of process pid so far, read from
// /proc/<pid>/stat (Linux; 0 elsewhere). Its resolution is 10 ms.
func PidCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces: fields count from the
	// last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / clockTicks
}
