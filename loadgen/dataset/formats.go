package dataset

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// lineReader reads a dataset a line at a time (JSONL, text) or hands its
// bytes to a JSON decoder while keeping count of lines (ShareGPT).
type lineReader struct {
	br *bufio.Reader
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, 64<<10)}
}

// openReader reads r, decompressing it on the fly when it is gzip, and
// refuses UTF-16 text (a habit of some Windows editors) with the fix.
func openReader(r io.Reader) (*lineReader, error) {
	lr := newLineReader(r)
	head, _ := lr.br.Peek(2)
	switch {
	case bytes.Equal(head, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(lr.br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return newLineReader(zr), nil
	case bytes.Equal(head, []byte{0xff, 0xfe}), bytes.Equal(head, []byte{0xfe, 0xff}):
		return nil, errors.New("the file is UTF-16 text; save it as UTF-8")
	}
	return lr, nil
}

// firstByte returns the first byte that is not white space or a UTF-8
// byte-order mark, without consuming anything; 0 when the first 64 KiB hold
// none.
func (lr *lineReader) firstByte() (byte, error) {
	b, err := lr.br.Peek(lr.br.Size())
	if len(b) == 0 {
		if err == nil || errors.Is(err, io.EOF) {
			return 0, errors.New("the file is empty")
		}
		return 0, err
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) == 0 {
		if errors.Is(err, io.EOF) {
			return 0, errors.New("the file holds only white space")
		}
		return 0, nil
	}
	return b[0], nil
}

// lines calls f with each line (without its line break), numbered from 1;
// a line longer than MaxLine comes as nil with tooLong set, and is never
// held whole.
func (lr *lineReader) lines(f func(n int64, line []byte, tooLong bool)) error {
	var n int64
	var long []byte // a line longer than the buffer, so far
	tooLong := false
	for {
		chunk, err := lr.br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			if !tooLong {
				long = append(long, chunk...)
				if len(long) > MaxLine {
					tooLong, long = true, nil
				}
			}
			continue
		}
		if len(chunk) > 0 || long != nil || tooLong {
			n++
			line := chunk
			if long != nil {
				line = append(long, chunk...)
			}
			if tooLong || len(line) > MaxLine {
				f(n, nil, true)
			} else {
				f(n, trimEOL(line, n), false)
			}
			long, tooLong = nil, false
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// trimEOL drops a line's break (and a byte-order mark on line 1).
func trimEOL(b []byte, n int64) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	if n == 1 {
		b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	}
	return b
}

func readText(lr *lineReader, s *sampler) error {
	err := lr.lines(func(n int64, line []byte, tooLong bool) {
		if tooLong {
			s.malformed(n, "line is over %d MiB; split it or shorten it", MaxLine>>20)
			return
		}
		if len(bytes.TrimSpace(line)) == 0 {
			return
		}
		s.add(Entry{ID: "line " + strconv.FormatInt(n, 10), Turns: []Turn{{User: string(line)}}})
	})
	if err != nil {
		return fmt.Errorf("dataset %s: %w", s.name, err)
	}
	return nil
}

// jsonlEntry is one line of a JSONL dataset.
type jsonlEntry struct {
	ID           json.RawMessage `json:"id"`
	Prompt       json.RawMessage `json:"prompt"`
	Messages     json.RawMessage `json:"messages"`
	OutputTokens json.RawMessage `json:"output_tokens"`
}

func readJSONL(lr *lineReader, s *sampler) error {
	err := lr.lines(func(n int64, line []byte, tooLong bool) {
		if tooLong {
			s.malformed(n, "line is over %d MiB; shorten the entry", MaxLine>>20)
			return
		}
		if len(bytes.TrimSpace(line)) == 0 {
			return
		}
		e, msg := parseJSONL(line)
		if msg != "" {
			s.malformed(n, "%s", msg)
			return
		}
		if e.ID == "" {
			e.ID = "line " + strconv.FormatInt(n, 10)
		}
		s.add(e)
	})
	if err != nil {
		return fmt.Errorf("dataset %s: %w", s.name, err)
	}
	return nil
}

// parseJSONL reads one JSONL entry, or says what is wrong with it.
func parseJSONL(line []byte) (Entry, string) {
	var j jsonlEntry
	if err := json.Unmarshal(line, &j); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			return Entry{}, `not a JSON object; want {"prompt": "..."} or {"messages": [...]} on each line`
		}
		if strings.Contains(err.Error(), "unexpected end of JSON input") {
			return Entry{}, "not valid JSON: the object does not end on this line (JSON lines want one whole object per line; a file starting with [ is read as a JSON array)"
		}
		return Entry{}, "not valid JSON: " + jsonProblem(err)
	}
	var e Entry
	var msg string
	if e.ID, msg = parseID(j.ID); msg != "" {
		return Entry{}, msg
	}
	if e.OutputTokens, msg = parseOutput(j.OutputTokens); msg != "" {
		return Entry{}, msg
	}
	hasPrompt, hasMessages := present(j.Prompt), present(j.Messages)
	switch {
	case hasPrompt && hasMessages:
		return Entry{}, `has both "prompt" and "messages"; give one`
	case hasPrompt:
		var p string
		if json.Unmarshal(j.Prompt, &p) != nil {
			return Entry{}, `"prompt" is not a string`
		}
		if strings.TrimSpace(p) == "" {
			return Entry{}, `"prompt" is empty`
		}
		e.Turns = []Turn{{User: p}}
	case hasMessages:
		msgs, msg := parseMessages(j.Messages)
		if msg != "" {
			return Entry{}, msg
		}
		last := -1
		for i, m := range msgs {
			if m.Role == "user" {
				last = i
			}
		}
		if last < 0 {
			return Entry{}, `"messages" has no user message`
		}
		t := Turn{User: msgs[last].Content}
		for i, m := range msgs[last+1:] {
			if m.Role != "assistant" {
				return Entry{}, fmt.Sprintf(`"messages"[%d] is a %s message after the last user message; only the assistant's reply may follow it`, last+1+i, m.Role)
			}
			t.Reply = joinText(t.Reply, m.Content)
		}
		e.History = msgs[:last:last]
		e.Turns = []Turn{t}
	default:
		return Entry{}, `has no "prompt" or "messages"; want {"prompt": "..."} or {"messages": [{"role": "user", "content": "..."}]}`
	}
	return e, ""
}

// present reports whether a field was given (and not null).
func present(raw json.RawMessage) bool {
	return len(raw) > 0 && string(raw) != "null"
}

// parseID reads an "id": a string or a number.
func parseID(raw json.RawMessage) (string, string) {
	if !present(raw) {
		return "", ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, ""
	}
	var f float64
	if json.Unmarshal(raw, &f) == nil {
		return string(raw), ""
	}
	return "", `"id" is not a string or a number`
}

// maxOutput bounds "output_tokens".
const maxOutput = 1 << 24

// parseOutput reads "output_tokens": a positive whole number.
func parseOutput(raw json.RawMessage) (int, string) {
	if !present(raw) {
		return 0, ""
	}
	var f float64
	if json.Unmarshal(raw, &f) != nil || f != math.Trunc(f) || f < 1 || f > maxOutput {
		return 0, fmt.Sprintf(`"output_tokens" %s is not a whole number from 1 to %d`, clip(string(raw)), maxOutput)
	}
	return int(f), ""
}

// chatMessage is one OpenAI chat message; content is a string or a list of
// parts of which only text parts are understood.
type chatMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// parseMessages reads an OpenAI "messages" list.
func parseMessages(raw json.RawMessage) ([]Message, string) {
	const want = `"messages" is not a list of {role, content}`
	var cms []chatMessage
	if json.Unmarshal(raw, &cms) != nil {
		return nil, want
	}
	if len(cms) == 0 {
		return nil, `"messages" is empty`
	}
	out := make([]Message, 0, len(cms))
	for i, cm := range cms {
		role := cm.Role
		switch role {
		case "system", "user", "assistant":
		case "developer":
			role = "system"
		case "":
			return nil, fmt.Sprintf(`"messages"[%d] has no "role"; %s`, i, strings.TrimPrefix(want, `"messages" `))
		default:
			return nil, fmt.Sprintf(`"messages"[%d] role %q: want system, user or assistant`, i, clip(cm.Role))
		}
		text, ok := content(cm.Content)
		if !ok {
			return nil, fmt.Sprintf(`"messages"[%d] "content" is not a string or a list of text parts`, i)
		}
		out = append(out, Message{Role: role, Content: text})
	}
	return out, ""
}

// content reads a message's content: a string, or a list of
// {"type": "text", "text": ...} parts joined.
func content(raw json.RawMessage) (string, bool) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	var parts []struct {
		Type string  `json:"type"`
		Text *string `json:"text"`
	}
	if json.Unmarshal(raw, &parts) != nil || len(parts) == 0 {
		return "", false
	}
	var b strings.Builder
	for _, p := range parts {
		if p.Type != "text" || p.Text == nil {
			return "", false
		}
		b.WriteString(*p.Text)
	}
	return b.String(), true
}

// joinText appends text to a turn's text, a blank line between.
func joinText(a, b string) string {
	if a == "" {
		return b
	}
	return a + "\n\n" + b
}

// clip shortens a quoted value for an error message.
func clip(s string) string {
	const n = 40
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// jsonProblem is a decoding error without Go's "json: " prefix.
func jsonProblem(err error) string {
	return strings.TrimPrefix(err.Error(), "json: ")
}

// lineCounter passes a reader's bytes through, keeping the bytes not yet
// counted so the line of a later offset can be found. It holds only what a
// JSON decoder has read ahead of the last offset asked for.
type lineCounter struct {
	r       io.Reader
	pending []byte // bytes from start on
	start   int64  // offset of pending[0]
	line    int64  // line of pending[0], from 1
}

func (lc *lineCounter) Read(p []byte) (int, error) {
	n, err := lc.r.Read(p)
	lc.pending = append(lc.pending, p[:n]...)
	return n, err
}

// lineAt returns the line of the first byte at or after off that is not
// white space; offsets must not decrease from one call to the next.
func (lc *lineCounter) lineAt(off int64) int64 {
	k := int(off - lc.start)
	k = max(0, min(k, len(lc.pending)))
	for k < len(lc.pending) && strings.IndexByte(" \t\r\n,", lc.pending[k]) >= 0 {
		k++
	}
	lc.line += int64(bytes.Count(lc.pending[:k], []byte("\n")))
	lc.pending = append(lc.pending[:0], lc.pending[k:]...)
	lc.start += int64(k)
	return lc.line
}

// shareGPTEntry is one conversation of a ShareGPT file.
type shareGPTEntry struct {
	ID            json.RawMessage `json:"id"`
	Conversations json.RawMessage `json:"conversations"`
	OutputTokens  json.RawMessage `json:"output_tokens"`
}

func readShareGPT(lr *lineReader, s *sampler) error {
	if head, _ := lr.br.Peek(3); bytes.Equal(head, []byte("\xef\xbb\xbf")) {
		lr.br.Discard(3)
	}
	lc := &lineCounter{r: lr.br, line: 1}
	dec := json.NewDecoder(lc)
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('[') {
		return fmt.Errorf("dataset %s:%d: not a ShareGPT file: want a JSON array of {\"id\", \"conversations\": [{\"from\", \"value\"}]}", s.name, lc.lineAt(0))
	}
	for n := int64(1); ; n++ {
		if !dec.More() {
			break
		}
		line := lc.lineAt(dec.InputOffset())
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				s.malformed(line, "entry %d: the file ends inside it (is it cut short?)", n)
			} else {
				s.malformed(line, "entry %d: not valid JSON: %s", n, jsonProblem(err))
			}
			return s.err()
		}
		e, msg := parseShareGPT(raw)
		if msg != "" {
			s.malformed(line, "entry %d: %s", n, msg)
			continue
		}
		if e.ID == "" {
			e.ID = "entry " + strconv.FormatInt(n, 10)
		}
		s.add(e)
	}
	if _, err := dec.Token(); err != nil {
		s.malformed(lc.lineAt(dec.InputOffset()), "the array is not closed: %s", jsonProblem(err))
	}
	return nil
}

// parseShareGPT reads one conversation, or says what is wrong with it.
// System messages before the first human turn are the history; leading
// replies (before any human turn) are dropped; consecutive messages from
// one side are joined.
func parseShareGPT(raw json.RawMessage) (Entry, string) {
	var j shareGPTEntry
	if err := json.Unmarshal(raw, &j); err != nil {
		return Entry{}, `not an object {"id", "conversations": [{"from", "value"}]}`
	}
	var e Entry
	var msg string
	if e.ID, msg = parseID(j.ID); msg != "" {
		return Entry{}, msg
	}
	if e.OutputTokens, msg = parseOutput(j.OutputTokens); msg != "" {
		return Entry{}, msg
	}
	var conv []struct {
		From  *string `json:"from"`
		Value *string `json:"value"`
	}
	if !present(j.Conversations) {
		// A JSON array of JSONL-style objects: {"prompt"} or {"messages"}.
		var alt jsonlEntry
		if json.Unmarshal(raw, &alt) == nil && (present(alt.Prompt) || present(alt.Messages)) {
			return parseJSONL(raw)
		}
		return Entry{}, `has no "conversations" (nor "prompt" or "messages")`
	}
	if json.Unmarshal(j.Conversations, &conv) != nil {
		return Entry{}, `"conversations" is not a list of {from, value}`
	}
	for i, c := range conv {
		if c.From == nil || c.Value == nil {
			return Entry{}, fmt.Sprintf(`"conversations"[%d] needs "from" and "value" strings`, i)
		}
		switch strings.ToLower(*c.From) {
		case "system":
			if len(e.Turns) > 0 {
				return Entry{}, fmt.Sprintf(`"conversations"[%d] is a system message after the first human turn; move it to the start`, i)
			}
			e.History = append(e.History, Message{Role: "system", Content: *c.Value})
		case "human", "user":
			if len(e.Turns) > 0 && e.Turns[len(e.Turns)-1].Reply == "" {
				e.Turns[len(e.Turns)-1].User = joinText(e.Turns[len(e.Turns)-1].User, *c.Value)
			} else {
				e.Turns = append(e.Turns, Turn{User: *c.Value})
			}
		case "gpt", "assistant", "chatgpt", "bard", "bing", "model":
			if len(e.Turns) > 0 {
				e.Turns[len(e.Turns)-1].Reply = joinText(e.Turns[len(e.Turns)-1].Reply, *c.Value)
			}
		default:
			return Entry{}, fmt.Sprintf(`"conversations"[%d] from %q: want human, gpt or system`, i, clip(*c.From))
		}
	}
	return e, ""
}
