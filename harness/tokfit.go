package harness

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/streamgauge/streamgauge/loadgen"
	"github.com/streamgauge/streamgauge/loadgen/prompt"
	"github.com/streamgauge/streamgauge/loadgen/tokenizer"
	"github.com/streamgauge/streamgauge/profiles"
	"github.com/streamgauge/streamgauge/targets"
)

// TokenizerServer is the --tokenizer value that fits every prompt to its
// intended length on the target's own tokenizer, with its tokenize endpoint.
const TokenizerServer = "server"

// maxPrefit bounds the requests fitted before the run; later ones are
// fitted when they are built (ahead of their send time in an open loop).
const maxPrefit = 100_000

// prefitWorkers is how many tokenize requests are in flight while fitting.
const prefitWorkers = 4

// localTokenizer is the tokenizer that builds prompts (and counts output
// text): with --tokenizer server, prompts are built on cl100k_base and then
// fitted on the server.
func localTokenizer(name string) string {
	if name == TokenizerServer {
		return tokenizer.CL100kBase
	}
	return name
}

// fitToServer wraps src so that each prompt holds exactly its intended
// number of tokens on the target's tokenizer, when the profile asks for
// --tokenizer server. It checks the endpoint first (a missing one is a
// configuration error naming the alternatives), then fits the requests it
// can foresee, before the run and outside its timing, logging progress.
// Call it once the target is known to be reachable, before the runner is
// made; it changes nothing for any other --tokenizer.
func fitToServer(ctx context.Context, p profiles.Profile, c *targets.Client, src loadgen.Source, logf func(string, ...any)) (loadgen.Source, error) {
	if p.Tokenizer != TokenizerServer {
		return src, nil
	}
	if p.Dataset != "" {
		// The user's prompts are sent as written, never cut or padded;
		// the server's own count of each is in server_input_tokens.
		logf("--tokenizer server: --dataset prompts are sent as written, not fitted; the server's count of each is recorded as server_input_tokens")
		return src, nil
	}
	// Prompts are extended with words of the tokenizer that built them.
	tok, err := tokenizer.Get(localTokenizer(p.Tokenizer))
	if err != nil {
		return nil, configErr(fmt.Errorf("tokenizer: %w", err))
	}
	b, err := prompt.New(tok)
	if err != nil {
		return nil, err
	}
	fitter, err := prompt.NewFitter(b)
	if err != nil {
		return nil, err
	}
	fs := &fittedSource{inner: src, fit: fitter, client: c, shape: targets.TokenizeShape(p.API), api: p.API, model: p.Model, ctx: ctx}
	if _, err := c.Tokenize(ctx, fs.shape, targets.TokenizeInput{Model: p.Model, Text: "hello"}); err != nil {
		if errors.Is(err, targets.ErrNoTokenize) {
			return nil, configErr(fmt.Errorf("--tokenizer server: %w; use --tokenizer cl100k_base|o200k_base", err))
		}
		return nil, fmt.Errorf("--tokenizer server: %w", err)
	}
	if err := fs.prefit(ctx, prefitCount(p), logf); err != nil {
		return nil, err
	}
	if _, ok := src.(loadgen.SessionSource); ok {
		return fittedSessions{fs}, nil
	}
	return fs, nil
}

// prefitCount is how many requests the run will build, as far as it can be
// told in advance.
func prefitCount(p profiles.Profile) uint64 {
	n := p.Requests
	if n == 0 && p.Rate > 0 && p.Duration > 0 {
		n = uint64(math.Ceil(p.Rate*p.Duration.Seconds()*1.1)) + 16
	}
	if p.Turns != "" {
		return 0 // sessions are fitted turn by turn as they go
	}
	return min(n, maxPrefit)
}

// fittedSource is a Source whose prompts are fitted to the server's counts.
type fittedSource struct {
	inner  loadgen.Source
	fit    *prompt.Fitter
	client *targets.Client
	shape  string
	api    string
	model  string
	// ctx is the run's: Request has none, and a fit must stop with the run.
	ctx context.Context

	inexact atomic.Int64
}

// Request implements loadgen.Source.
func (s *fittedSource) Request(i uint64) (*targets.Request, error) {
	req, err := s.inner.Request(i)
	if err != nil || req == nil {
		return req, err
	}
	return s.fitRequest(s.ctx, req)
}

// prefit fits requests 0..n-1 with a few workers, so the run finds them in
// the fitter's cache.
func (s *fittedSource) prefit(ctx context.Context, n uint64, logf func(string, ...any)) error {
	if n == 0 {
		return nil
	}
	start := time.Now()
	logf("--tokenizer server: fitting %d prompts on %s before the run", n, s.client.TokenizeURL())
	var next, done atomic.Uint64
	var wg sync.WaitGroup
	errs := make(chan error, prefitWorkers)
	stop := make(chan struct{})
	for range prefitWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				if _, err := s.Request(i); err != nil {
					errs <- err
					return
				}
				done.Add(1)
			}
		}()
	}
	go func() { wg.Wait(); close(stop) }()
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		select {
		case err := <-errs:
			next.Store(n) // stop the others
			<-stop
			return fmt.Errorf("--tokenizer server: %w", err)
		case <-tick.C:
			logf("--tokenizer server: %d/%d prompts fitted", done.Load(), n)
		case <-stop:
			select {
			case err := <-errs:
				return fmt.Errorf("--tokenizer server: %w", err)
			default:
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			msg := fmt.Sprintf("--tokenizer server: %d prompts fitted in %s", n, time.Since(start).Round(time.Millisecond))
			if k := s.inexact.Load(); k > 0 {
				msg += fmt.Sprintf("; %d could not be matched exactly (their records carry the server's count)", k)
			}
			logf("%s", msg)
			return nil
		}
	}
}

// chat reports whether req reaches the server as chat messages.
func (s *fittedSource) chat(req *targets.Request) bool {
	switch s.api {
	case "openai-chat", "openai-responses", "anthropic":
		return true
	case "ollama":
		return len(req.Messages) > 0
	}
	return false
}

// fitRequest fits the last message (or the prompt) of req so that the
// server counts req.InputTokens for the whole prompt, chat template
// included where the endpoint applies it.
func (s *fittedSource) fitRequest(ctx context.Context, req *targets.Request) (*targets.Request, error) {
	out := *req
	chat := s.chat(req)
	msgs := req.Messages
	if len(msgs) == 0 {
		msgs = []targets.Message{{Role: "user", Content: req.Prompt}}
	}
	before := msgs[:len(msgs)-1]
	last := msgs[len(msgs)-1]
	var key strings.Builder
	for _, m := range before {
		key.WriteString(m.Role)
		key.WriteByte(0)
		key.WriteString(m.Content)
		key.WriteByte(0)
	}
	with := func(text string) []targets.Message {
		m := append(make([]targets.Message, 0, len(msgs)), before...)
		return append(m, targets.Message{Role: last.Role, Content: text})
	}
	count := func(ctx context.Context, text string) (int, error) {
		in := targets.TokenizeInput{Model: s.model, Special: !chat}
		if chat {
			in.Messages = with(text)
		} else {
			in.Text = joinMessages(with(text))
		}
		return s.client.Tokenize(ctx, s.shape, in)
	}
	text, n, err := s.fit.Fit(ctx, key.String(), last.Content, req.InputTokens, count)
	if err != nil {
		return nil, err
	}
	if n != req.InputTokens {
		s.inexact.Add(1)
	}
	out.InputTokens = n
	if len(req.Messages) > 0 {
		out.Messages = with(text)
		out.Prompt = joinMessages(out.Messages)
	} else {
		out.Prompt = text
	}
	return &out, nil
}

// joinMessages is the prompt text of messages for APIs without chat
// messages, as loadgen joins them.
func joinMessages(msgs []targets.Message) string {
	parts := make([]string, len(msgs))
	for i, m := range msgs {
		parts[i] = m.Content
	}
	return strings.Join(parts, "\n")
}

// fittedSessions fits every turn of a session as it is built.
type fittedSessions struct{ *fittedSource }

// Session implements loadgen.SessionSource.
func (s fittedSessions) Session(i uint64) loadgen.Conversation {
	return &fittedConversation{inner: s.inner.(loadgen.SessionSource).Session(i), s: s.fittedSource}
}

type fittedConversation struct {
	inner loadgen.Conversation
	s     *fittedSource
	// sent maps the user turns as built to the fitted text sent, so later
	// turns repeat the conversation as the server saw it (and its prefix
	// cache holds it).
	sent map[string]string
}

// Next implements loadgen.Conversation.
func (c *fittedConversation) Next(prev *targets.Response) (*targets.Request, time.Duration, bool, error) {
	req, think, more, err := c.inner.Next(prev)
	if err != nil || !more || req == nil {
		return req, think, more, err
	}
	if c.sent == nil {
		c.sent = make(map[string]string)
	}
	built := req.Messages
	if len(built) > 0 {
		msgs := make([]targets.Message, len(built))
		copy(msgs, built)
		for i := range msgs[:len(msgs)-1] {
			if fitted, ok := c.sent[msgs[i].Content]; ok && msgs[i].Role != "assistant" {
				msgs[i].Content = fitted
			}
		}
		r := *req
		r.Messages = msgs
		req = &r
	}
	fitted, err := c.s.fitRequest(c.s.ctx, req)
	if err == nil && len(built) > 0 {
		c.sent[built[len(built)-1].Content] = fitted.Messages[len(fitted.Messages)-1].Content
	}
	return fitted, think, more, err
}
