package harness_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/harness"
	"github.com/streamgauge/streamgauge/profiles"
)

func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestRunMasksMessages: log lines, errors and run.json never quote a header
// value, the API key or a URL credential, and a configuration error stays
// one once masked.
func TestRunMasksMessages(t *testing.T) {
	secretProfile := func(t *testing.T) profiles.Profile {
		p := profiles.Default()
		p.Name = "secrets"
		p.Rate, p.Requests = 50, 3
		p.InputTokens, p.OutputTokens = "16", "4"
		p.SimTTFT, p.SimITL = time.Millisecond, time.Millisecond
		p.Headers = []string{"cf-aig-authorization: Bearer gw-SECRET-1", "X-Custom: custom-SECRET-1"}
		p.Out = filepath.Join(t.TempDir(), "run")
		return p
	}
	tests := []struct {
		name    string
		mod     func(*profiles.Profile)
		env     map[string]string
		wantErr bool
		config  bool // the error is a *harness.ConfigError
		wantLog string
	}{
		{name: "scrape URL credentials in a log line", mod: func(p *profiles.Profile) {
			p.ScrapeMetrics = "http://m:scrape-SECRET-pw@" + closedAddr(t) + "/metrics?token=scrape-SECRET-2"
		}, wantLog: "scrape-metrics http://redacted:"},
		{name: "unreachable target with credentials", mod: func(p *profiles.Profile) {
			p.Target = "http://bench:target-SECRET-pw@" + closedAddr(t)
		}, wantErr: true},
		{name: "API key read, then a config error", mod: func(p *profiles.Profile) {
			p.APIKeyEnv = "KEY"
			p.Tokenizer = "no-such-tokenizer-sk-key-SECRET-0123456789"
		}, env: map[string]string{"KEY": "sk-key-SECRET-0123456789"}, wantErr: true, config: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := secretProfile(t)
			tt.mod(&p)
			var mu sync.Mutex
			var logs []string
			logf := func(format string, a ...any) {
				mu.Lock()
				defer mu.Unlock()
				logs = append(logs, fmt.Sprintf(format, a...))
			}
			getenv := func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }
			_, err := harness.Run(context.Background(), p, harness.WithLog(logf), harness.WithGetenv(getenv))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want an error: %v", err, tt.wantErr)
			}
			var ce *harness.ConfigError
			if errors.As(err, &ce) != tt.config {
				t.Errorf("err %v: a ConfigError: %v, want %v", err, !tt.config, tt.config)
			}
			mu.Lock()
			text := strings.Join(logs, "\n")
			mu.Unlock()
			if err != nil {
				text += "\n" + err.Error()
				if ce != nil {
					text += "\n" + ce.Err.Error()
				}
			}
			if b, rerr := os.ReadFile(filepath.Join(p.Out, "run.json")); rerr == nil {
				text += "\n" + string(b)
			}
			if strings.Contains(text, "SECRET") {
				t.Errorf("a secret is in the logs, the error or run.json:\n%s", text)
			}
			if !strings.Contains(text, tt.wantLog) {
				t.Errorf("logs lack %q:\n%s", tt.wantLog, text)
			}
		})
	}
}
