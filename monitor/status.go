package monitor

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Refresh rates of the status.
const (
	// TerminalRefresh is how often the terminal's status block is redrawn.
	TerminalRefresh = 250 * time.Millisecond
	// PlainInterval is how often a plain status line is written.
	PlainInterval = 10 * time.Second
)

// Status writes a monitor's figures while a run lasts: on a terminal, a
// block redrawn in place a few times a second; elsewhere (a CI log), one
// plain line every PlainInterval. Other lines meant for the same writer go
// through Status.Write, which keeps them above the block, so the two never
// interleave.
type Status struct {
	w        io.Writer
	m        *Monitor
	prefix   string
	tty      bool
	width    func() int
	interval time.Duration

	mu      sync.Mutex
	shown   int  // lines of the block on screen
	cleared bool // the load ended: no more block
	stopped bool
	running bool
	stop    chan struct{}
	done    chan struct{}
}

// StatusOption configures a Status.
type StatusOption func(*Status)

// Terminal makes the status a block redrawn in place with ANSI escapes.
// width reports the terminal's columns (0 if unknown); lines are cut to
// fit so they never wrap.
func Terminal(width func() int) StatusOption {
	return func(s *Status) { s.tty, s.width = true, width }
}

// Every sets how often the status is written: the redraw rate on a
// terminal, the line interval elsewhere.
func Every(d time.Duration) StatusOption {
	return func(s *Status) {
		if d > 0 {
			s.interval = d
		}
	}
}

// Prefix starts each plain status line (e.g. "streamgauge: ").
func Prefix(p string) StatusOption {
	return func(s *Status) { s.prefix = p }
}

// NewStatus returns a status of m written to w. Start it with Start.
func NewStatus(w io.Writer, m *Monitor, opts ...StatusOption) *Status {
	s := &Status{w: w, m: m, stop: make(chan struct{}), done: make(chan struct{})}
	for _, o := range opts {
		o(s)
	}
	if s.interval == 0 {
		s.interval = PlainInterval
		if s.tty {
			s.interval = TerminalRefresh
		}
	}
	return s
}

// Start writes the status until Stop.
func (s *Status) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running || s.stopped {
		return
	}
	s.running = true
	go func() {
		defer close(s.done)
		t := time.NewTicker(s.interval)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				s.tick()
			}
		}
	}()
}

func (s *Status) tick() {
	snap := s.m.Snapshot()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped || s.cleared {
		return
	}
	var b bytes.Buffer
	switch {
	case s.tty && snap.Ended:
		s.clear(&b)
		s.cleared = true
	case s.tty && !snap.Started:
	case s.tty:
		s.clear(&b)
		s.draw(&b, snap)
	case snap.Started && !snap.Ended:
		b.WriteString(s.prefix + snap.Line() + "\n")
	}
	s.w.Write(b.Bytes())
}

// clear erases the block: cursor up over it, then erase to the end of the
// screen.
func (s *Status) clear(b *bytes.Buffer) {
	if s.shown > 0 {
		fmt.Fprintf(b, "\r\x1b[%dA\x1b[J", s.shown)
		s.shown = 0
	}
}

func (s *Status) draw(b *bytes.Buffer, snap Snapshot) {
	w := 0
	if s.width != nil {
		w = s.width()
	}
	if w <= 0 {
		w = 80
	}
	for _, line := range snap.Lines() {
		// One column short of the edge: some terminals wrap a line that
		// fills the last column.
		if len(line) > w-1 {
			line = line[:max(w-1, 0)]
		}
		b.WriteString(line + "\n")
		s.shown++
	}
}

// Write writes p (whole lines) above the status block.
func (s *Status) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.tty || s.shown == 0 {
		return s.w.Write(p)
	}
	var b bytes.Buffer
	s.clear(&b)
	b.Write(p)
	if !bytes.HasSuffix(p, []byte("\n")) {
		b.WriteByte('\n')
	}
	if !s.stopped && !s.cleared {
		s.draw(&b, s.m.Snapshot())
	}
	if _, err := s.w.Write(b.Bytes()); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Printf writes one line above the status block.
func (s *Status) Printf(format string, a ...any) {
	line := fmt.Sprintf(format, a...)
	if !strings.HasSuffix(line, "\n") {
		line += "\n"
	}
	s.Write([]byte(line))
}

// Freeze stops redrawing and leaves the block as it is, for when something
// else may have written to the terminal (an interrupt's notice, the ^C
// echo): erasing lines then could erase those.
func (s *Status) Freeze() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tty {
		s.shown = 0
		s.cleared = true
	}
}

// Stop ends the status and erases the block, so what is written next (the
// results table) starts on a clean line. It is safe to call more than once.
func (s *Status) Stop() {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return
	}
	s.stopped = true
	var b bytes.Buffer
	s.clear(&b)
	if b.Len() > 0 {
		s.w.Write(b.Bytes())
	}
	running := s.running
	s.mu.Unlock()
	close(s.stop)
	if running {
		<-s.done
	}
}
