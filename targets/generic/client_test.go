package generic_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/generic"
	"github.com/streamgauge/streamgauge/targets/openai"
	"github.com/streamgauge/streamgauge/targets/targetstest"
)

// chatRequest is a chat request with everything the vLLM spec sends.
var chatRequest = &targets.Request{ID: "req-1", Model: "meta-llama/Llama-3.1-8B-Instruct",
	Messages:  []targets.Message{{Role: "system", Content: "Be brief."}, {Role: "user", Content: `What is the capital of "France"?`}},
	MaxTokens: 64, IgnoreEOS: true}

// jsonValue decodes b for comparing JSON documents.
func jsonValue(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return v
}

// kept is what a load run keeps from a response (no timings).
type kept struct {
	Status             int
	Frames             []targets.Stamp
	Content, Reasoning string
	Usage              *targets.Usage
	Err                string
}

func keep(r *targets.Response) kept {
	k := kept{Status: r.Status, Content: r.Content.String(), Reasoning: r.Reasoning.String(), Usage: r.Usage}
	for _, s := range r.Frames {
		s.At = 0
		k.Frames = append(k.Frames, s)
	}
	if r.Err != nil {
		k.Err = string(r.Err.Kind) + ": " + r.Err.Message
	}
	return k
}

// TestClientSpeaksOpenAIChat proves a generic spec can speak vLLM's chat
// API: through targets.Client, the vLLM spec sends the same body and
// credential as openai.Chat, and keeps the same frames, text, usage and
// errors from each of vLLM's transcripts.
func TestClientSpeaksOpenAIChat(t *testing.T) {
	p := mustNew(t, "testdata/vllm.yaml")
	wantBody, err := openai.Chat{}.Body(chatRequest)
	if err != nil {
		t.Fatal(err)
	}
	streams, err := filepath.Glob("testdata/vllm_*.sse")
	if err != nil || len(streams) == 0 {
		t.Fatalf("no vLLM transcripts: %v", err)
	}
	for _, path := range streams {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".sse"), func(t *testing.T) {
			stream, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				switch {
				case r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions":
					http.Error(w, "route "+r.Method+" "+r.URL.Path, http.StatusNotFound)
				case r.Header.Get("Authorization") != "Bearer sk-test":
					http.Error(w, "authorization "+r.Header.Get("Authorization"), http.StatusUnauthorized)
				case !reflect.DeepEqual(jsonValue(t, body), jsonValue(t, wantBody)):
					http.Error(w, "body "+string(body)+" want "+string(wantBody), http.StatusBadRequest)
				default:
					w.Header().Set("Content-Type", "text/event-stream")
					_, _ = w.Write(stream)
				}
			}))
			defer srv.Close()
			do := func(proto targets.Protocol) kept {
				c, err := targets.NewClient(srv.URL, proto, targets.WithAPIKey("sk-test"))
				if err != nil {
					t.Fatal(err)
				}
				defer c.CloseIdle()
				return keep(c.Do(context.Background(), chatRequest))
			}
			got, want := do(p), do(openai.Chat{})
			if want.Status != http.StatusOK {
				t.Fatalf("openai.Chat got %+v", want)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("generic kept\n%+v\nopenai.Chat kept\n%+v", got, want)
			}
		})
	}
}

// TestDecoderMatchesOpenAIChat compares the vLLM spec's decoder with
// openai.Chat's, event by event, on the same transcripts.
func TestDecoderMatchesOpenAIChat(t *testing.T) {
	p := mustNew(t, "testdata/vllm.yaml")
	streams, _ := filepath.Glob("testdata/vllm_*.sse")
	for _, path := range streams {
		stream, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		got := decodeStream(t, p, bytes.NewReader(stream))
		want := decodeStream(t, openai.Chat{}, bytes.NewReader(stream))
		// A spec names no request id or server timings: openai.Chat's
		// are left out of the comparison.
		want.ID, want.Timing = "", nil
		for i := range want.Events {
			want.Events[i].ID, want.Events[i].Timing = "", nil
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: generic decoded\n%+v\nopenai.Chat decoded\n%+v", path, got, want)
		}
	}
}

// TestClientHeaders checks the path with {model}, the constant headers and
// the auth header forms against a server that speaks the spec.
func TestClientHeaders(t *testing.T) {
	tests := []struct {
		spec     string
		model    string
		wantPath string
		wantAuth [2]string // header, value
		wantHdr  [2]string
	}{
		{"acme", "cortex/large", "/cortex/v2/models/cortex%2Flarge/stream", [2]string{"X-Cortex-Key", "k1"}, [2]string{"X-Cortex-Tenant", "loadtest"}},
		{"heron", "h", "/heron/generate", [2]string{"Authorization", "Token k1"}, [2]string{}},
		{"lark", "l", "/lark/stream", [2]string{"Authorization", "Bearer k1"}, [2]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			spec := loadSpec(t, "testdata/"+tt.spec+".yaml")
			gs, err := generic.NewServer(spec)
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch {
				case r.URL.EscapedPath() != tt.wantPath:
					http.Error(w, "path "+r.URL.EscapedPath(), http.StatusNotFound)
					return
				case r.Header.Get(tt.wantAuth[0]) != tt.wantAuth[1]:
					http.Error(w, tt.wantAuth[0]+": "+r.Header.Get(tt.wantAuth[0]), http.StatusUnauthorized)
					return
				case tt.wantHdr[0] != "" && r.Header.Get(tt.wantHdr[0]) != tt.wantHdr[1]:
					http.Error(w, tt.wantHdr[0]+": "+r.Header.Get(tt.wantHdr[0]), http.StatusBadRequest)
					return
				case tt.wantAuth[0] != "Authorization" && r.Header.Get("Authorization") != "":
					http.Error(w, "unexpected Authorization", http.StatusBadRequest)
					return
				}
				body, _ := io.ReadAll(r.Body)
				req, err := gs.ParseRequest(body)
				if err != nil || req.MaxTokens != 3 {
					http.Error(w, "body "+string(body), http.StatusBadRequest)
					return
				}
				w.Header().Set("Content-Type", gs.ContentType())
				sw := gs.NewStreamWriter(w, req, "")
				_ = sw.Start()
				for _, tok := range []string{"a", "b", "c"} {
					_ = sw.Token(tok)
					w.(http.Flusher).Flush()
				}
				_ = sw.Finish(targets.Usage{PromptTokens: 2, CompletionTokens: 3})
			}))
			defer srv.Close()
			c, err := targets.NewClient(srv.URL, mustNew(t, "testdata/"+tt.spec+".yaml"), targets.WithAPIKey("k1"))
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseIdle()
			resp := c.Do(context.Background(), &targets.Request{Model: tt.model, Prompt: "x y", MaxTokens: 3})
			if resp.Err != nil {
				t.Fatalf("Do: %+v", resp.Err)
			}
			if resp.Content.String() != "abc" || len(resp.Frames) != 3 || resp.Usage == nil || resp.Usage.CompletionTokens != 3 {
				t.Errorf("content %q, %d frames, usage %+v", resp.Content.String(), len(resp.Frames), resp.Usage)
			}
		})
	}
}

// TestSimulator serves each testdata spec from the built-in simulator and
// reads a stream from it end to end.
func TestSimulator(t *testing.T) {
	for _, file := range specFiles(t) {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			spec := loadSpec(t, file)
			gs, err := generic.NewServer(spec)
			if err != nil {
				t.Fatal(err)
			}
			want := targets.Usage{CompletionTokens: 16}
			if spec.Usage.Prompt != "" {
				want.PromptTokens = 6
			}
			targetstest.CheckSimulatorServing(t, mustNew(t, file), gs, want, targets.WithAPIKey("k"))
		})
	}
}
