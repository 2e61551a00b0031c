package sim_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/targets/openai"
	"github.com/streamgauge/streamgauge/targets/sim"
)

// BenchmarkLateness1000 measures how well the stepped engine keeps up: 1,000
// concurrent streams over real HTTP (continuous batching, one batch of
// 1,000, h200-llama8b, 64-token outputs), and for every token the time from
// its step's end (when the engine meant it to leave) to the moment its
// frame was flushed to the socket. It reports the lateness percentiles in
// µs and the process's CPU per token (client and server share the process
// and the machine). The target is every token within 1 ms.
//
//	go test -run '^$' -bench Lateness1000 -benchtime 1x ./targets/sim/
func BenchmarkLateness1000(b *testing.B) { benchLateness(b, 1000, 64) }

// BenchmarkLateness100 is the same with 100 streams.
func BenchmarkLateness100(b *testing.B) { benchLateness(b, 100, 64) }

func benchLateness(b *testing.B, streams, out int) {
	cfg := sim.DefaultConfig()
	cfg.Scheduler = sim.SchedContinuous
	cfg.Preset = "h200-llama8b"
	cfg.MaxBatch = streams
	var mu sync.Mutex
	var lat []int64
	srv, err := sim.New(sim.WithConfig(cfg), sim.WithProtocols(openai.Chat{}), sim.WithTruth(func(tr *sim.Truth) {
		mu.Lock()
		defer mu.Unlock()
		for i, due := range tr.DueNS {
			lat = append(lat, tr.TokenNS[i]-due)
		}
	}))
	if err != nil {
		b.Fatal(err)
	}
	l, err := srv.Listen("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close(context.Background())
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: streams, MaxIdleConns: streams, DisableCompression: true}}
	body := fmt.Sprintf(`{"model":"m","stream":true,"max_tokens":%d,"messages":[{"role":"user","content":%q}]}`, out, strings.Repeat("word ", 32))
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	for b.Loop() {
		var wg sync.WaitGroup
		for i := range streams {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest("POST", l.URL+"/v1/chat/completions", strings.NewReader(body))
				req.Header.Set("X-Request-Id", fmt.Sprint("b", i))
				resp, err := hc.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}()
		}
		wg.Wait()
	}
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	// The truth callback runs as each handler returns; wait for the last.
	for deadline := time.Now().Add(5 * time.Second); srv.InFlight() > 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(lat) != b.N*streams*out {
		b.Fatalf("%d tokens timed, want %d", len(lat), b.N*streams*out)
	}
	reportLateness(b, lat, ru0, ru1)
	var st strings.Builder
	srv.WriteMetrics(&st)
	for _, line := range strings.Split(st.String(), "\n") {
		if strings.HasPrefix(line, "streamgauge_sim_step") {
			b.Log(line)
		}
	}
}

// reportLateness reports lateness percentiles (µs), the share within 1 ms,
// and the process's CPU per token between two rusage samples.
func reportLateness(b *testing.B, lat []int64, ru0, ru1 syscall.Rusage) {
	b.Helper()
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / 1e3 }
	within := float64(0)
	for _, v := range lat {
		if v <= int64(time.Millisecond) {
			within++
		}
	}
	cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
	b.ReportMetric(q(0.5), "p50-µs")
	b.ReportMetric(q(0.99), "p99-µs")
	b.ReportMetric(q(0.999), "p99.9-µs")
	b.ReportMetric(float64(lat[len(lat)-1])/1e3, "max-µs")
	b.ReportMetric(100*within/float64(len(lat)), "%within-1ms")
	b.ReportMetric(float64(cpu.Microseconds())/float64(len(lat)), "cpu-µs/token")
}

// BenchmarkLatenessFloor1000 is the floor under BenchmarkLateness1000: no
// HTTP, no engine, no encoding. 1,000 loopback TCP connections, each drained
// by the cheapest possible reader (io.Copy to io.Discard); every 10 ms a
// "step" ends and GOMAXPROCS writer goroutines write one pre-encoded
// 150-byte SSE frame to each connection. Lateness is the time from the
// step's end to each write's return. Whatever a server does per token, it
// cannot beat this on the same machine: it shows whether "each token within
// 1 ms of its step's end at 1,000 streams" is reachable here at all.
//
//	go test -run '^$' -bench LatenessFloor1000 -benchtime 1x ./targets/sim/
func BenchmarkLatenessFloor1000(b *testing.B) {
	const streams, steps = 1000, 64
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	conns := make([]net.Conn, 0, streams)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	var readers sync.WaitGroup
	for range streams {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		readers.Add(1)
		go func() {
			defer readers.Done()
			defer c.Close()
			io.Copy(io.Discard, c)
		}()
		s, err := ln.Accept()
		if err != nil {
			b.Fatal(err)
		}
		conns = append(conns, s)
	}
	frame := []byte(`data: {"id":"chatcmpl-b1","object":"chat.completion.chunk","created":1764288000,"model":"m","choices":[{"index":0,"delta":{"content":" word"}}]}` + "\n\n")
	writers := runtime.GOMAXPROCS(0)
	lat := make([]int64, 0, b.N*streams*steps)
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	for b.Loop() {
		for range steps {
			time.Sleep(10 * time.Millisecond)
			end := time.Now()
			parts := make([][]int64, writers)
			var wg sync.WaitGroup
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := w; i < streams; i += writers {
						if _, err := conns[i].Write(frame); err != nil {
							b.Error(err)
							return
						}
						parts[w] = append(parts[w], int64(time.Since(end)))
					}
				}()
			}
			wg.Wait()
			for _, p := range parts {
				lat = append(lat, p...)
			}
		}
	}
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	for _, c := range conns {
		c.Close()
	}
	readers.Wait()
	conns = nil
	reportLateness(b, lat, ru0, ru1)
}
