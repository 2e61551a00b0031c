package targets

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/streamgauge/streamgauge/internal/secret"
)

// TokenizePath is the path of the tokenize endpoint of vLLM, SGLang,
// llama.cpp's llama-server and TGI, under the server's base URL.
const TokenizePath = "/tokenize"

// The shapes of the tokenize endpoints the client speaks.
const (
	// TokenizeVLLM is vLLM's (and SGLang's) body: {"model", "prompt"} or
	// {"model", "messages", "add_generation_prompt"}, answered with
	// {"count", "max_model_len", "tokens"}. With messages, the server applies
	// its chat template, so the count includes the template's tokens.
	TokenizeVLLM = "vllm"
	// TokenizeLlamaCpp is llama-server's: {"content", "add_special"},
	// answered with {"tokens": [ids]}.
	TokenizeLlamaCpp = "llamacpp"
	// TokenizeTGI is TGI's: {"inputs"}, answered with a list of
	// {"id", "text", "start", "stop"}.
	TokenizeTGI = "tgi"
)

// TokenizeShape returns the tokenize body shape for an --api value: the
// native shape of llama.cpp and TGI, vLLM's for every other API.
func TokenizeShape(api string) string {
	switch api {
	case "llamacpp":
		return TokenizeLlamaCpp
	case "tgi":
		return TokenizeTGI
	}
	return TokenizeVLLM
}

// ErrNoTokenize is wrapped by Tokenize when the server answers 404, 405 or
// 501: it has no tokenize endpoint.
var ErrNoTokenize = errors.New("this server has no tokenize endpoint (vLLM, SGLang, llama.cpp and TGI have one)")

// TokenizeInput is what to count: Messages (a chat, counted with the
// server's chat template where the shape allows it) or Text.
type TokenizeInput struct {
	Model    string
	Text     string
	Messages []Message
	// Special asks for the tokens the server adds to every prompt (BOS),
	// as it does when serving a completion.
	Special bool
}

// TokenizeURL is the tokenize endpoint under the client's base URL.
func (c *Client) TokenizeURL() string { return c.base + TokenizePath }

// Tokenize counts in on the server's tokenizer with its tokenize endpoint,
// in the given shape (TokenizeShape). It sends the client's headers and
// key. Messages are sent as such only in the vLLM shape; the others get
// their contents joined by newlines.
func (c *Client) Tokenize(ctx context.Context, shape string, in TokenizeInput) (int, error) {
	body, err := tokenizeBody(shape, in)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.TokenizeURL(), bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("tokenize: %w", err)
	}
	c.setHeaders(req.Header, "application/json", "")
	at := secret.URL(c.TokenizeURL())
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("tokenize at %s: %w", at, c.mask(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return 0, fmt.Errorf("tokenize at %s: read the answer: %w", at, c.mask(err))
	}
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed ||
		resp.StatusCode == http.StatusNotImplemented:
		return 0, fmt.Errorf("%s answered %d; %w", at, resp.StatusCode, ErrNoTokenize)
	case resp.StatusCode != http.StatusOK:
		return 0, fmt.Errorf("tokenize at %s answered %d: %s", at, resp.StatusCode, c.mask(errors.New(snippet(data))))
	}
	n, err := ParseTokenizeResponse(shape, data)
	if err != nil {
		return 0, fmt.Errorf("tokenize at %s: %w", at, err)
	}
	return n, nil
}

func (c *Client) mask(err error) error {
	if c.redactor == nil {
		return err
	}
	return c.redactor.Error(err)
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

func tokenizeBody(shape string, in TokenizeInput) ([]byte, error) {
	text := in.Text
	if len(in.Messages) > 0 && shape != TokenizeVLLM {
		parts := make([]string, len(in.Messages))
		for i, m := range in.Messages {
			parts[i] = m.Content
		}
		text = strings.Join(parts, "\n")
	}
	switch shape {
	case TokenizeVLLM:
		if len(in.Messages) > 0 {
			return json.Marshal(struct {
				Model               string    `json:"model,omitempty"`
				Messages            []Message `json:"messages"`
				AddGenerationPrompt bool      `json:"add_generation_prompt"`
			}{in.Model, in.Messages, true})
		}
		return json.Marshal(struct {
			Model            string `json:"model,omitempty"`
			Prompt           string `json:"prompt"`
			AddSpecialTokens bool   `json:"add_special_tokens"`
		}{in.Model, text, in.Special})
	case TokenizeLlamaCpp:
		return json.Marshal(struct {
			Content    string `json:"content"`
			AddSpecial bool   `json:"add_special"`
		}{text, in.Special})
	case TokenizeTGI:
		return json.Marshal(struct {
			Inputs string `json:"inputs"`
		}{text})
	}
	return nil, fmt.Errorf("tokenize: unknown shape %q (want %s, %s or %s)", shape, TokenizeVLLM, TokenizeLlamaCpp, TokenizeTGI)
}

// ParseTokenizeResponse returns the token count of a tokenize answer in the
// given shape: vLLM's count (or its tokens' length), llama.cpp's tokens'
// length (ids or {id, piece} objects), TGI's list's length.
func ParseTokenizeResponse(shape string, data []byte) (int, error) {
	switch shape {
	case TokenizeVLLM, TokenizeLlamaCpp:
		var r struct {
			Count  *int              `json:"count"`
			Tokens []json.RawMessage `json:"tokens"`
		}
		if err := json.Unmarshal(data, &r); err != nil {
			return 0, fmt.Errorf("answer is not a tokenize response: %w", err)
		}
		if r.Count != nil && shape == TokenizeVLLM {
			if *r.Count < 0 {
				return 0, fmt.Errorf("answer has a negative count %d", *r.Count)
			}
			return *r.Count, nil
		}
		if r.Tokens == nil {
			return 0, errors.New(`answer has neither "count" nor "tokens"`)
		}
		return len(r.Tokens), nil
	case TokenizeTGI:
		var r []json.RawMessage
		if err := json.Unmarshal(data, &r); err != nil {
			return 0, fmt.Errorf("answer is not a list of tokens: %w", err)
		}
		return len(r), nil
	}
	return 0, fmt.Errorf("tokenize: unknown shape %q", shape)
}
