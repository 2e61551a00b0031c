package targetstest

import (
	"strings"
	"testing"

	"github.com/streamgauge/streamgauge/targets"
)

// RequestCase is a client request and the request the simulator must read
// from the body the client builds for it.
type RequestCase struct {
	Name string
	Req  targets.Request
	Want targets.ServerRequest
}

// CheckRequests builds each case's body with p's client side and parses it
// with p's server side: the simulator must read what the client meant.
func CheckRequests(t *testing.T, p Protocol, cases []RequestCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			body, err := p.Body(&tc.Req)
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.ParseRequest(body)
			if err != nil {
				t.Fatalf("ParseRequest(%s): %v", body, err)
			}
			if *got != tc.Want {
				t.Errorf("ParseRequest(%s) = %+v, want %+v", body, *got, tc.Want)
			}
		})
	}
}

// CheckParse parses each body (as other clients write them) with p and
// compares the request with the one it maps to.
func CheckParse(t *testing.T, p targets.ServerProtocol, bodies map[string]targets.ServerRequest) {
	t.Helper()
	for body, want := range bodies {
		got, err := p.ParseRequest([]byte(body))
		if err != nil || *got != want {
			t.Errorf("ParseRequest(%s) = %+v, %v, want %+v", body, got, err, want)
		}
	}
}

// CheckRejects parses each body with p, which must refuse it.
func CheckRejects(t *testing.T, p targets.ServerProtocol, bodies ...string) {
	t.Helper()
	for _, body := range bodies {
		if _, err := p.ParseRequest([]byte(body)); err == nil {
			t.Errorf("ParseRequest(%s) accepted", body)
		}
	}
}

// ParseCase is one request body for CheckParseCases: the request it maps
// to, or else a substring of the error that refuses it.
type ParseCase struct {
	Name, Body string
	Want       targets.ServerRequest
	WantErr    string
}

// CheckParseCases parses each case's body with p, in a subtest named after
// the case.
func CheckParseCases(t *testing.T, p targets.ServerProtocol, cases []ParseCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.Name, func(t *testing.T) {
			got, err := p.ParseRequest([]byte(tt.Body))
			if tt.WantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.WantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.WantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if *got != tt.Want {
				t.Errorf("got %+v, want %+v", *got, tt.Want)
			}
		})
	}
}
