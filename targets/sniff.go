package targets

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/streamgauge/streamgauge/results"
)

// sniffMax is how many of the first bytes a plain HTTP connection receives
// are kept, to say what a server that does not speak HTTP sent.
const sniffMax = 64

// sniffConn is a plain connection that keeps the first sniffMax bytes it
// reads. The read loop of net/http writes them; Do reads them after the
// transport reported a failure.
type sniffConn struct {
	net.Conn
	n    atomic.Int32 // bytes kept, up to sniffMax
	mu   sync.Mutex
	head [sniffMax]byte
}

// Read reads from the connection, keeping its first bytes.
func (s *sniffConn) Read(p []byte) (int, error) {
	n, err := s.Conn.Read(p)
	if n > 0 && int(s.n.Load()) < sniffMax {
		s.mu.Lock()
		k := copy(s.head[s.n.Load():], p[:n])
		s.n.Add(int32(k))
		s.mu.Unlock()
	}
	return n, err
}

// first returns a copy of the first bytes read.
func (s *sniffConn) first() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.head[:s.n.Load()]...)
}

// sniffDial wraps dial so its connections keep their first bytes.
func sniffDial(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &sniffConn{Conn: conn}, nil
	}
}

// notHTTPError classifies the failure of a request on a plain HTTP
// connection that got no response: a server that sent something other than
// an HTTP status line (an SSH or SMTP banner, a bare body, binary bytes), or
// that closed the connection without sending anything. Every request to
// such a target fails the same way, before any stream, so it is a connect
// error that says what to check. It returns nil when the server's first
// bytes are an HTTP/1.x status line: a broken HTTP response stays what the
// transport said.
func (c *Client) notHTTPError(conn net.Conn, err error) *results.Error {
	sc, ok := conn.(*sniffConn)
	if !ok {
		return nil
	}
	head := sc.first()
	if len(head) == 0 {
		if !closedEarly(err) {
			return nil
		}
		return &results.Error{Kind: results.KindConnect, Message: fmt.Sprintf("the server at %s closed the connection without answering with HTTP: check --target's host and port (or the server's log, if it stopped)", c.where)}
	}
	if statusLine(head) {
		return nil
	}
	line, _, _ := bytes.Cut(head, []byte("\n"))
	line = bytes.TrimRight(line, "\r")
	return &results.Error{Kind: results.KindConnect, Message: fmt.Sprintf("the server at %s did not answer with HTTP (it sent %q): check --target's host and port", c.where, line)}
}

// closedEarly reports whether err is the transport's report of a
// connection that ended before any response.
func closedEarly(err error) bool {
	s := err.Error()
	for _, m := range [...]string{"EOF", "server closed idle connection", "connection reset by peer", "readLoopPeekFailLocked", "broken pipe"} {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}

// statusLine reports whether b starts like an HTTP/1.x status line
// ("HTTP/1.1 200"), or could still become one (fewer bytes arrived).
func statusLine(b []byte) bool {
	const want = "HTTP/1.x 000"
	if len(b) < len(want) {
		// Too short to tell: a prefix of a status line counts as one.
		p := "HTTP/1."
		return bytes.HasPrefix([]byte(p), b[:min(len(b), len(p))])
	}
	if !bytes.HasPrefix(b, []byte("HTTP/1.")) || b[8] != ' ' {
		return false
	}
	for _, d := range b[9:12] {
		if d < '0' || d > '9' {
			return false
		}
	}
	return true
}
