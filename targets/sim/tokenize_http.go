package sim

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"github.com/streamgauge/streamgauge/targets"
)

// defaultMaxModelLen is the max_model_len the tokenize endpoint reports for
// an engine without a KV-cache capacity (the fixed engine).
const defaultMaxModelLen = 131072

// tokenizeBody is the union of the tokenize bodies the simulator answers:
// vLLM's and SGLang's (prompt or messages), llama.cpp's (content) and TGI's
// (inputs).
type tokenizeBody struct {
	Prompt     *string           `json:"prompt"`
	Messages   []targets.Message `json:"messages"`
	Content    *string           `json:"content"`
	WithPieces bool              `json:"with_pieces"`
	Inputs     *string           `json:"inputs"`
}

// handleTokenize serves POST /tokenize in the shape of the server whose
// body it receives, counted with the simulator's tokenizer. Messages are
// counted as the simulator's chat routes count them: their contents joined
// by newlines (its chat template adds no tokens). The simulator adds no
// special tokens (BOS), asked or not, as its usage counts none.
func (s *Server) handleTokenize(w http.ResponseWriter, r *http.Request) {
	data, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		httpError(w, http.StatusBadRequest, "invalid_request_error", "read body: "+err.Error())
		return
	}
	var b tokenizeBody
	if err := json.Unmarshal(data, &b); err != nil {
		httpError(w, http.StatusBadRequest, "invalid_request_error", "invalid JSON body: "+err.Error())
		return
	}
	type piece struct {
		ID    int    `json:"id"`
		Text  string `json:"text,omitempty"`
		Piece string `json:"piece,omitempty"`
		Start *int   `json:"start,omitempty"`
		Stop  *int   `json:"stop,omitempty"`
	}
	ids := func(text string) []int {
		out := []int{}
		eachToken(text, func(i, j int) { out = append(out, tokenID(text[i:j])) })
		return out
	}
	var answer any
	switch {
	case b.Inputs != nil: // TGI: a list of tokens with their byte offsets
		text := *b.Inputs
		out := []piece{}
		eachToken(text, func(i, j int) {
			out = append(out, piece{ID: tokenID(text[i:j]), Text: text[i:j], Start: &i, Stop: &j})
		})
		answer = out
	case b.Content != nil: // llama.cpp
		text := *b.Content
		if !b.WithPieces {
			answer = map[string]any{"tokens": ids(text)}
			break
		}
		out := []piece{}
		eachToken(text, func(i, j int) { out = append(out, piece{ID: tokenID(text[i:j]), Piece: text[i:j]}) })
		answer = map[string]any{"tokens": out}
	case b.Prompt != nil || len(b.Messages) > 0: // vLLM, SGLang
		text := ""
		if b.Prompt != nil {
			text = *b.Prompt
		} else {
			parts := make([]string, len(b.Messages))
			for i, m := range b.Messages {
				parts[i] = m.Content
			}
			text = strings.Join(parts, "\n")
		}
		t := ids(text)
		answer = map[string]any{"count": len(t), "max_model_len": s.maxModelLen(), "tokens": t}
	default:
		httpError(w, http.StatusBadRequest, "invalid_request_error",
			`want "prompt" or "messages" (vLLM, SGLang), "content" (llama.cpp) or "inputs" (TGI)`)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(answer)
}

// maxModelLen is the longest sequence the engine can hold.
func (s *Server) maxModelLen() int64 {
	if e, ok := s.engine.(*Stepped); ok {
		return e.KVTokens()
	}
	return defaultMaxModelLen
}
