package targets_test

import (
	"context"
	"io"
	"log"
	"net"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/streamgauge/streamgauge/results"
	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/openai"
)

// rawServer accepts connections on 127.0.0.1, reads what the client sends
// first, writes reply and closes the connection: a server that speaks
// something other than what the client expects. It answers, as a TLS
// server does, after the client's first bytes: a reply written before the
// request reaches net/http as an unsolicited response on an idle
// connection, which fails differently (and did, in about one run in three).
func rawServer(t *testing.T, reply string) string {
	return tcpServer(t, func(conn net.Conn) {
		_, _ = conn.Read(make([]byte, 4096))
		_, _ = conn.Write([]byte(reply))
	})
}

// tcpServer accepts connections on 127.0.0.1 until the test ends, runs
// serve on each and closes it; it returns the listener's address.
func tcpServer(t *testing.T, serve func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			serve(conn)
			_ = conn.Close()
		}
	}()
	return ln.Addr().String()
}

// TestSchemeMismatchIsConnect: a target whose scheme does not match what the
// server speaks fails every request with kind connect and a message saying
// what to change, not as a broken stream.
func TestSchemeMismatchIsConnect(t *testing.T) {
	plain := newServer(t, streamHandler(contentChunk("x"), doneChunk))
	tlsSrv := httptest.NewUnstartedServer(streamHandler(contentChunk("x"), doneChunk))
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake failures are the point
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	tlsAddr := strings.TrimPrefix(tlsSrv.URL, "https://")
	cases := []struct {
		name string
		base string
		opts []targets.Option
		want string
	}{
		{"https to a plain HTTP server", "https://" + strings.TrimPrefix(plain.URL, "http://"), nil,
			"speaks plain HTTP, not HTTPS: use http:// in --target"},
		{"http to a Go TLS server", "http://" + tlsAddr, nil,
			"speaks HTTPS, not plain HTTP: use https:// in --target"},
		{"http to a TLS server that sends an alert", "http://" + rawServer(t, "\x15\x03\x01\x00\x02\x02\x46"), nil,
			"answered with TLS: use https:// in --target"},
		{"https to a server that speaks neither", "https://" + rawServer(t, "SSH-2.0-OpenSSH_9.6\r\n"), nil,
			"did not answer the TLS handshake with TLS"},
		{"https with an untrusted certificate", tlsSrv.URL, nil,
			"is not trusted"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := targets.NewClient(tc.base, openai.Chat{}, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(c.CloseIdle)
			resp := c.Do(context.Background(), &targets.Request{Model: "m", Prompt: "p"})
			if resp.Err == nil {
				t.Fatal("succeeded")
			}
			if resp.Err.Kind != results.KindConnect || !strings.Contains(resp.Err.Message, tc.want) {
				t.Errorf("error %s %q, want connect containing %q", resp.Err.Kind, resp.Err.Message, tc.want)
			}
		})
	}
	// The same TLS server, trusted, streams as usual.
	c, err := targets.NewClient(tlsSrv.URL, openai.Chat{}, targets.WithTLS(true, ""))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdle)
	if resp := c.Do(context.Background(), &targets.Request{Model: "m", Prompt: "p"}); resp.Err != nil {
		t.Fatalf("--insecure: %+v", resp.Err)
	}
}

// greetServer accepts connections on 127.0.0.1, writes greeting at once (a
// server that speaks first, as SSH and SMTP do), waits for what the client
// sends and closes the connection; with an empty greeting it closes the
// connection right after accepting it.
func greetServer(t *testing.T, greeting string) string {
	return tcpServer(t, func(conn net.Conn) {
		if greeting != "" {
			_, _ = conn.Write([]byte(greeting))
			_, _ = conn.Read(make([]byte, 4096))
		}
	})
}

// TestNotHTTPIsConnect: an http:// target whose server does not speak HTTP
// (speaks first, sends garbage or a bare line, or hangs up at once) fails
// with kind connect and a message that quotes what it sent, not as a
// stream_error with net/http's internals.
func TestNotHTTPIsConnect(t *testing.T) {
	cases := []struct {
		name string
		addr string
		want string
	}{
		{"SSH banner on accept", greetServer(t, "SSH-2.0-OpenSSH_9.6\r\n"),
			`did not answer with HTTP (it sent "SSH-2.0-OpenSSH_9.6"): check --target's host and port`},
		{"SMTP greeting on accept", greetServer(t, "220 mail.example ESMTP ready\r\n"),
			`(it sent "220 mail.example ESMTP ready")`},
		{"SSH banner after the request", rawServer(t, "SSH-2.0-OpenSSH_9.6\r\n"),
			`(it sent "SSH-2.0-OpenSSH_9.6")`},
		{"binary garbage", rawServer(t, "\x00\x01\x02garbage"),
			`did not answer with HTTP (it sent "\x00\x01\x02garbage")`},
		{"bare HTTP/0.9-style body line", rawServer(t, "hello world\n"),
			`did not answer with HTTP (it sent "hello world")`},
		{"HTML without a status line", rawServer(t, "<html>hi</html>\n"),
			`(it sent "<html>hi</html>")`},
		{"HTTP/0.9 status line", rawServer(t, "HTTP/0.9 200 OK\r\n\r\n"),
			`(it sent "HTTP/0.9 200 OK")`},
		{"closes right after accept", greetServer(t, ""),
			"closed the connection without answering with HTTP: check --target's host and port"},
		{"closes after the request", rawServer(t, ""),
			"closed the connection without answering with HTTP"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := targets.NewClient("http://"+tc.addr, openai.Chat{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(c.CloseIdle)
			for range 3 { // the first bytes race the request: every attempt must read the same
				resp := c.Do(context.Background(), &targets.Request{Model: "m", Prompt: "p"})
				if resp.Err == nil {
					t.Fatal("succeeded")
				}
				if resp.Err.Kind != results.KindConnect || !strings.Contains(resp.Err.Message, tc.want) {
					t.Fatalf("error %s %q, want connect containing %q", resp.Err.Kind, resp.Err.Message, tc.want)
				}
			}
		})
	}
}
