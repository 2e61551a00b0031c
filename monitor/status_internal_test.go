package monitor

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/results"
)

// screen replays what a terminal would show for the escapes Status writes:
// carriage return, newline, cursor up (ESC[nA), erase to the end of the
// screen (ESC[J) and erase the line (ESC[2K, ESC[K). Anything else fails.
func screen(t *testing.T, out string) []string {
	t.Helper()
	var lines [][]rune
	row, col := 0, 0
	put := func(r rune) {
		for len(lines) <= row {
			lines = append(lines, nil)
		}
		for len(lines[row]) < col {
			lines[row] = append(lines[row], ' ')
		}
		if col < len(lines[row]) {
			lines[row][col] = r
		} else {
			lines[row] = append(lines[row], r)
		}
		col++
	}
	rs := []rune(out)
	for i := 0; i < len(rs); i++ {
		switch r := rs[i]; r {
		case '\r':
			col = 0
		case '\n':
			row++
			col = 0
		case 0x1b:
			j := i + 1
			if j >= len(rs) || rs[j] != '[' {
				t.Fatalf("unexpected escape at %d: %q", i, string(rs[i:min(i+8, len(rs))]))
			}
			j++
			k := j
			for k < len(rs) && (rs[k] >= '0' && rs[k] <= '9') {
				k++
			}
			if k >= len(rs) {
				t.Fatalf("unterminated escape at %d", i)
			}
			n := 1
			if k > j {
				n, _ = strconv.Atoi(string(rs[j:k]))
			}
			switch rs[k] {
			case 'A':
				row = max(row-n, 0)
			case 'J':
				if row < len(lines) {
					lines[row] = lines[row][:min(col, len(lines[row]))]
					lines = lines[:row+1]
				}
			case 'K':
				if row < len(lines) {
					lines[row] = lines[row][:min(col, len(lines[row]))]
				}
			default:
				t.Fatalf("unexpected escape %q", string(rs[i:k+1]))
			}
			i = k
		default:
			put(r)
		}
	}
	out2 := make([]string, 0, len(lines))
	for _, l := range lines {
		out2 = append(out2, strings.TrimRight(string(l), " "))
	}
	for len(out2) > 0 && out2[len(out2)-1] == "" {
		out2 = out2[:len(out2)-1]
	}
	return out2
}

func TestTerminalStatusRedrawsInPlace(t *testing.T) {
	t0 := time.Now()
	now := t0
	m := New(WithClock(func() time.Time { return now }))
	var out bytes.Buffer
	s := NewStatus(&out, m, Terminal(func() int { return 60 }))

	s.tick() // not started: nothing drawn
	if out.Len() != 0 {
		t.Fatalf("drew before the run started: %q", out.String())
	}
	s.Printf("streamgauge: notice one")
	m.Begin(t0, Plan{Duration: time.Minute})
	for i := range 5 {
		now = t0.Add(time.Duration(i) * time.Second)
		m.Append(&results.Record{TTFTMS: results.Ms(20), OutputTokens: 10})
		s.tick()
	}
	s.Printf("streamgauge: notice two")
	now = t0.Add(6 * time.Second)
	s.tick()

	got := screen(t, out.String())
	if len(got) != 4 || got[0] != "streamgauge: notice one" || got[1] != "streamgauge: notice two" {
		t.Fatalf("screen:\n%s\nwant the two notices, then the block", strings.Join(got, "\n"))
	}
	want := m.Snapshot().Lines()
	for i, l := range want {
		if len(l) > 59 {
			l = l[:59]
		}
		if got[2+i] != l {
			t.Errorf("block line %d = %q, want %q (cut to the width)", i, got[2+i], l)
		}
	}
	if n := strings.Count(out.String(), "\x1b[2A"); n < 5 {
		t.Errorf("the block was redrawn in place %d times, want at least 5", n)
	}

	m.End()
	s.tick() // the load ended: the block goes
	s.Printf("streamgauge: after")
	s.Stop()
	s.Stop()
	out.WriteString("table\n")
	got = screen(t, out.String())
	if strings.Join(got, "\n") != "streamgauge: notice one\nstreamgauge: notice two\nstreamgauge: after\ntable" {
		t.Errorf("final screen:\n%s", strings.Join(got, "\n"))
	}
}

func TestStopErasesTheBlock(t *testing.T) {
	m := New()
	m.Begin(time.Now(), Plan{Requests: 10})
	var out bytes.Buffer
	s := NewStatus(&out, m, Terminal(nil))
	s.Start()
	s.tick()
	s.Stop()
	out.WriteString("table\n")
	if got := screen(t, out.String()); strings.Join(got, "\n") != "table" {
		t.Errorf("screen after Stop:\n%s", strings.Join(got, "\n"))
	}
}

func TestFreezeLeavesTheBlock(t *testing.T) {
	m := New()
	m.Begin(time.Now(), Plan{Requests: 10})
	var out bytes.Buffer
	s := NewStatus(&out, m, Terminal(nil))
	s.tick()
	s.Freeze()
	out.WriteString("^Cstreamgauge: interrupt: stopping\n") // written by someone else
	s.tick()
	s.Printf("streamgauge: later")
	s.Stop()
	got := screen(t, out.String())
	if len(got) != 4 || !strings.HasPrefix(got[0], "streamgauge  elapsed") || got[2] != "^Cstreamgauge: interrupt: stopping" || got[3] != "streamgauge: later" {
		t.Errorf("screen:\n%s\nwant the last block, then the interrupt notice and later lines intact", strings.Join(got, "\n"))
	}
}

func TestPlainStatusLines(t *testing.T) {
	m := New()
	var out bytes.Buffer
	s := NewStatus(&out, m, Prefix("streamgauge: "))
	if s.interval != PlainInterval {
		t.Errorf("plain interval %s, want %s", s.interval, PlainInterval)
	}
	s.tick() // not started: no line
	m.Begin(time.Now(), Plan{Duration: time.Minute})
	s.tick()
	s.Printf("streamgauge: notice")
	s.tick()
	m.End()
	s.tick() // ended: no line
	s.Stop()
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "streamgauge: elapsed 0s/1m00s") || !strings.Contains(lines[0], " sent 0,") ||
		lines[1] != "streamgauge: notice" || !strings.HasPrefix(lines[2], "streamgauge: elapsed") {
		t.Errorf("plain output:\n%s", out.String())
	}
	if strings.ContainsRune(out.String(), 0x1b) {
		t.Errorf("plain output has escapes: %q", out.String())
	}
}
