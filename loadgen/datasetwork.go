package loadgen

import (
	"errors"
	"math/rand/v2"
	"time"

	"github.com/streamgauge/streamgauge/loadgen/dataset"
	"github.com/streamgauge/streamgauge/loadgen/dist"
	"github.com/streamgauge/streamgauge/targets"
)

// DatasetWorkload sends the prompts of a dataset sample: request (or
// session) i is entry i mod len(Set.Entries). Its output length is the
// entry's output_tokens, else the length of the dataset's reply, else a
// draw from Output. InputTokens is measured with Counter on the text sent,
// and records name the entry (DatasetID).
type DatasetWorkload struct {
	Set       *dataset.Set
	Model     string
	Output    dist.Dist
	Counter   Counter
	IgnoreEOS bool
	Seed      uint64
	// Think is the pause between a session's turns, in ms (nil: none).
	Think dist.Dist
	// Unique puts Marker(Nonce, i) at the very start of each request's (or
	// session's) prompt.
	Unique bool
	Nonce  uint64
}

var (
	_ Source        = (*DatasetWorkload)(nil)
	_ SessionSource = DatasetSessions{}
)

func (w *DatasetWorkload) check() error {
	if w.Set == nil || len(w.Set.Entries) == 0 || w.Output == nil || w.Counter == nil {
		return errors.New("dataset workload: set, output and counter must be set")
	}
	return nil
}

// entry returns the entry of request or session i.
func (w *DatasetWorkload) entry(i uint64) dataset.Entry {
	return w.Set.Entries[i%uint64(len(w.Set.Entries))]
}

// outputLen is the output length of a turn.
func (w *DatasetWorkload) outputLen(e dataset.Entry, t dataset.Turn, rng *rand.Rand) int {
	switch {
	case e.OutputTokens > 0:
		return e.OutputTokens
	case t.Reply != "":
		if n := w.Counter.Count(t.Reply); n > 0 {
			return n
		}
	}
	return w.Output.Sample(rng)
}

// first returns the messages of an entry's first request, the unique
// marker (if any) at the very start, and their tokens.
func (w *DatasetWorkload) first(e dataset.Entry, i uint64) ([]targets.Message, int) {
	msgs := make([]targets.Message, 0, len(e.History)+1)
	for _, m := range e.History {
		msgs = append(msgs, targets.Message{Role: m.Role, Content: m.Content})
	}
	msgs = append(msgs, targets.Message{Role: "user", Content: e.Turns[0].User})
	if w.Unique {
		msgs[0].Content = Marker(w.Nonce, i) + msgs[0].Content
	}
	n := 0
	for _, m := range msgs {
		n += w.Counter.Count(m.Content)
	}
	return msgs, n
}

// request makes a request of messages.
func (w *DatasetWorkload) request(e dataset.Entry, msgs []targets.Message, tokens, out int) *targets.Request {
	req := &targets.Request{Model: w.Model, Prompt: joinContents(msgs), InputTokens: tokens, MaxTokens: out,
		IgnoreEOS: w.IgnoreEOS, DatasetID: e.ID}
	if len(msgs) > 1 {
		req.Messages = msgs
	}
	return req
}

// Request implements Source: the first turn of entry i mod len(entries).
func (w *DatasetWorkload) Request(i uint64) (*targets.Request, error) {
	if err := w.check(); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(w.Seed, requestStream^i))
	e := w.entry(i)
	msgs, tokens := w.first(e, i)
	return w.request(e, msgs, tokens, w.outputLen(e, e.Turns[0], rng)), nil
}

// DatasetSessions runs a dataset's conversations as multi-turn sessions:
// each human turn is sent with the conversation so far, in which the
// earlier turns' replies are the dataset's (the server's streamed reply
// when the dataset has none). The prompts of a session are then the same
// whatever the server answers, as in vLLM's benchmarks.
type DatasetSessions struct{ *DatasetWorkload }

// Session implements SessionSource.
func (s DatasetSessions) Session(i uint64) Conversation {
	return &datasetConversation{w: s.DatasetWorkload, idx: i, rng: rand.New(rand.NewPCG(s.Seed, sessionStream^i))}
}

// datasetConversation is one session's state.
type datasetConversation struct {
	w        *DatasetWorkload
	idx      uint64
	rng      *rand.Rand
	turn     int
	messages []targets.Message
	tokens   int
}

// Next implements Conversation.
func (c *datasetConversation) Next(prev *targets.Response) (*targets.Request, time.Duration, bool, error) {
	if err := c.w.check(); err != nil {
		return nil, 0, false, err
	}
	e := c.w.entry(c.idx)
	if prev != nil {
		reply := e.Turns[c.turn-1].Reply
		if reply == "" {
			reply = prev.Content.String()
		}
		c.messages = append(c.messages, targets.Message{Role: "assistant", Content: reply})
		c.tokens += c.w.Counter.Count(reply)
	}
	if c.turn >= len(e.Turns) {
		return nil, 0, false, nil
	}
	t := e.Turns[c.turn]
	c.turn++
	var think time.Duration
	if c.turn > 1 && c.w.Think != nil {
		think = time.Duration(c.w.Think.Sample(c.rng)) * time.Millisecond
	}
	if c.turn == 1 {
		c.messages, c.tokens = c.w.first(e, c.idx)
	} else {
		c.messages = append(c.messages, targets.Message{Role: "user", Content: t.User})
		c.tokens += c.w.Counter.Count(t.User)
	}
	msgs := make([]targets.Message, len(c.messages))
	copy(msgs, c.messages)
	req := c.w.request(e, msgs, c.tokens, c.w.outputLen(e, t, c.rng))
	req.Messages, req.Session = msgs, true
	return req, think, true, nil
}
