package loadgen

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/streamgauge/streamgauge/loadgen/dist"
	"github.com/streamgauge/streamgauge/loadgen/prompt"
	"github.com/streamgauge/streamgauge/targets"
)

// Random streams: each request, prefix and session draws from a source seeded
// by (seed, stream ^ index), so they never share draws and never depend on
// the run's timing.
const (
	requestStream = 0x9e3779b97f4a7c15
	prefixStream  = 0x7f4a7c159e3779b9
	sessionStream = 0x3c6ef372fe94f82b
)

// Prefixes describes shared prompt prefixes: Groups prefixes of Tokens
// tokens each, one of which starts a Share of the requests. Requests with the
// same prefix exercise a server's prefix cache as production traffic does
// (shared system prompts, shared documents).
type Prefixes struct {
	Groups int
	Tokens int
	Share  float64
	// System sends the prefix as a system message (chat APIs) instead of
	// the start of the user prompt.
	System bool
}

// Validate reports a prefix setting that cannot work.
func (p Prefixes) Validate() error {
	switch {
	case p.Groups < 0 || p.Tokens < 0:
		return fmt.Errorf("prefix: groups %d and tokens %d must not be negative", p.Groups, p.Tokens)
	case p.Groups > 0 && p.Tokens == 0:
		return errors.New("prefix: prefix-groups needs prefix-tokens")
	case p.Share < 0 || p.Share > 1:
		return fmt.Errorf("prefix-share %v: want a fraction from 0 to 1", p.Share)
	}
	return nil
}

// Workload synthesises requests: an input and an output length drawn from
// their distributions, a prompt of exactly the input length (optionally
// starting with a shared prefix), and, when Turns is set, multi-turn sessions
// whose turns carry the conversation so far. Request i (session s) depends
// only on the seed and i (s).
type Workload struct {
	Model     string
	Input     dist.Dist
	Output    dist.Dist
	Prompts   *prompt.Builder
	IgnoreEOS bool
	Seed      uint64
	Prefix    Prefixes
	// Turns, when set, makes every request a session of that many turns.
	Turns dist.Dist
	// Think is the pause between a turn's end and the next turn, in ms.
	Think dist.Dist
	// Unique puts Marker(Nonce, i) at the very start of request i's (or
	// session i's) prompt, so no request can reuse another's prefix cache;
	// the prompt is built that many tokens shorter, so the total stays the
	// drawn input length.
	Unique bool
	Nonce  uint64

	once     sync.Once
	prefixes []string
}

var (
	_ Source        = (*Workload)(nil)
	_ SessionSource = (*Sessions)(nil)
)

func (w *Workload) check() error {
	if w.Input == nil || w.Output == nil || w.Prompts == nil {
		return errors.New("workload: input, output and prompts must be set")
	}
	return nil
}

// prefixTexts builds the shared prefixes once.
func (w *Workload) prefixTexts() []string {
	w.once.Do(func() {
		for g := 0; g < w.Prefix.Groups; g++ {
			rng := rand.New(rand.NewPCG(w.Seed, prefixStream^uint64(g)))
			w.prefixes = append(w.prefixes, w.Prompts.Build(rng, w.Prefix.Tokens))
		}
	})
	return w.prefixes
}

// userTurn draws one prompt of about in tokens: with the prefix share, it
// starts with a shared prefix (or comes with one as a system message). It
// returns the messages of the turn and the tokens sent.
func (w *Workload) userTurn(rng *rand.Rand, in int, withPrefix bool) (system, user string, tokens int) {
	if withPrefix && w.Prefix.Groups > 0 && rng.Float64() < w.Prefix.Share {
		pre := w.prefixTexts()[rng.IntN(w.Prefix.Groups)]
		if w.Prefix.System {
			return pre, w.Prompts.Build(rng, in), w.Prefix.Tokens + in
		}
		total := max(in, w.Prefix.Tokens+1)
		return "", w.Prompts.BuildWithPrefix(pre, rng, total), total
	}
	return "", w.Prompts.Build(rng, in), in
}

// Request implements Source: one single-turn request.
func (w *Workload) Request(i uint64) (*targets.Request, error) {
	if err := w.check(); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(w.Seed, requestStream^i))
	in := w.Input.Sample(rng)
	out := w.Output.Sample(rng)
	marker, mt, rest := w.marker(i, in)
	system, user, tokens := w.userTurn(rng, rest, true)
	system, user, tokens = addMarker(marker, mt, system, user, tokens)
	req := &targets.Request{Model: w.Model, Prompt: user, InputTokens: tokens, MaxTokens: out, IgnoreEOS: w.IgnoreEOS}
	if system != "" {
		req.Messages = []targets.Message{{Role: "system", Content: system}, {Role: "user", Content: user}}
		req.Prompt = system + "\n" + user
	}
	return req, nil
}

// marker returns request i's unique marker and its tokens (none without
// Unique), and the tokens left of the input length in for the rest of the
// prompt: at least one.
func (w *Workload) marker(i uint64, in int) (string, int, int) {
	if !w.Unique {
		return "", 0, in
	}
	m := Marker(w.Nonce, i)
	mt := w.Prompts.Tokenizer().Count(m)
	return m, mt, max(in-mt, 1)
}

// addMarker puts a marker at the very start of a turn's first message.
func addMarker(marker string, mt int, system, user string, tokens int) (string, string, int) {
	switch {
	case marker == "":
	case system != "":
		system = marker + system
	default:
		user = marker + user
	}
	return system, user, tokens + mt
}

// Sessions is a Workload run as multi-turn sessions.
type Sessions struct{ *Workload }

// Session implements SessionSource.
func (s Sessions) Session(i uint64) Conversation {
	rng := rand.New(rand.NewPCG(s.Seed, sessionStream^i))
	turns := 1
	if s.Turns != nil {
		turns = s.Turns.Sample(rng)
	}
	return &conversation{w: s.Workload, rng: rng, turns: turns, idx: i}
}

// conversation is one session's state: the messages so far.
type conversation struct {
	w        *Workload
	rng      *rand.Rand
	idx      uint64 // the session's number
	turns    int
	turn     int
	messages []targets.Message
	tokens   int // tokens of the conversation so far, as sent or streamed
}

// Next implements Conversation. The draws (lengths, think times, prefix)
// come from the session's own source in a fixed order, so the prompts of a
// session are the same whatever the server answers; the answers themselves
// are carried into later turns as the server streamed them.
func (c *conversation) Next(prev *targets.Response) (*targets.Request, time.Duration, bool, error) {
	if err := c.w.check(); err != nil {
		return nil, 0, false, err
	}
	if prev != nil {
		c.messages = append(c.messages, targets.Message{Role: "assistant", Content: prev.Content.String()})
		switch {
		case prev.Usage != nil && prev.Usage.CompletionTokens > 0:
			c.tokens += prev.Usage.CompletionTokens
		default:
			c.tokens += len(prev.Frames)
		}
	}
	if c.turn >= c.turns {
		return nil, 0, false, nil
	}
	c.turn++
	var think time.Duration
	if c.turn > 1 && c.w.Think != nil {
		think = time.Duration(c.w.Think.Sample(c.rng)) * time.Millisecond
	}
	in := c.w.Input.Sample(c.rng)
	out := c.w.Output.Sample(c.rng)
	marker, mt, rest := "", 0, in
	if c.turn == 1 {
		marker, mt, rest = c.w.marker(c.idx, in)
	}
	system, user, tokens := c.w.userTurn(c.rng, rest, c.turn == 1)
	system, user, tokens = addMarker(marker, mt, system, user, tokens)
	if system != "" {
		c.messages = append(c.messages, targets.Message{Role: "system", Content: system})
	}
	c.messages = append(c.messages, targets.Message{Role: "user", Content: user})
	c.tokens += tokens
	msgs := make([]targets.Message, len(c.messages))
	copy(msgs, c.messages)
	return &targets.Request{
		Model: c.w.Model, Messages: msgs, Prompt: joinContents(msgs),
		InputTokens: c.tokens, MaxTokens: out, IgnoreEOS: c.w.IgnoreEOS, Session: true,
	}, think, true, nil
}

// joinContents is the prompt text of a conversation, for APIs without chat
// messages.
func joinContents(msgs []targets.Message) string {
	n := 0
	for _, m := range msgs {
		n += len(m.Content) + 1
	}
	b := make([]byte, 0, n)
	for i, m := range msgs {
		if i > 0 {
			b = append(b, '\n')
		}
		b = append(b, m.Content...)
	}
	return string(b)
}
