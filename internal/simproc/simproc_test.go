//go:build linux

package simproc

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fakeServe writes a script that stands in for `streamgauge serve`: it
// says where it listens (or not) and then waits to be signaled.
func fakeServe(t *testing.T, listens bool) string {
	t.Helper()
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	body := "#!/bin/sh\n"
	if listens {
		body += "echo 'streamgauge: simulator listening on http://127.0.0.1:1 (fake)' >&2\n"
	}
	body += "exec sleep 30\n"
	bin := filepath.Join(t.TempDir(), "fake-serve")
	if err := os.WriteFile(bin, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

// gone reports whether pid no longer exists (it was reaped).
func gone(pid int) bool {
	return syscall.Kill(pid, 0) == syscall.ESRCH
}

func TestStopReapsAndIsIdempotent(t *testing.T) {
	srv, err := Start(context.Background(), fakeServe(t, true), Spec{TTFT: time.Millisecond, ITL: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if srv.URL() != "http://127.0.0.1:1" {
		t.Errorf("URL %q", srv.URL())
	}
	pid := srv.Pid()
	first := srv.Stop()
	// A second Stop (a deferred one after an explicit one) must not wait
	// for an exit that was already received.
	done := make(chan error, 1)
	go func() { done <- srv.Stop() }()
	select {
	case second := <-done:
		if (first == nil) != (second == nil) {
			t.Errorf("Stop: %v, then %v", first, second)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a second Stop hangs")
	}
	if !gone(pid) {
		t.Errorf("pid %d still exists after Stop", pid)
	}
}

// A start cut short (Ctrl-C before the server listens) kills and reaps it.
func TestStartCanceledReaps(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	srv, err := Start(ctx, fakeServe(t, false), Spec{TTFT: time.Millisecond, ITL: time.Millisecond})
	if err == nil || srv != nil || !strings.Contains(err.Error(), "context canceled") {
		t.Fatalf("Start: %v, %v; want a canceled error and no server", srv, err)
	}
}

func TestChildAttrDiesWithParent(t *testing.T) {
	a := childAttr()
	if a == nil || a.Pdeathsig != syscall.SIGKILL {
		t.Errorf("childAttr %+v: want SIGKILL on the parent's death", a)
	}
}
