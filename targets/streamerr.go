package targets

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// Servers report an error inside a stream that has already begun (HTTP 200
// sent) in several forms; docs/metrics.md lists them with the servers that
// send them. The frame readers and DecodeFrame give every form one meaning
// whatever the protocol: an Event with Err, which the client records as a
// stream_error carrying the server's message.

// MaxErrorMessage bounds the message DecodeFrame takes from an error frame.
const MaxErrorMessage = 1024

// noDetails is the message of an error frame that says nothing more.
const noDetails = "error event without details"

// DecodeFrame decodes f with dec, applying first the rules every protocol
// shares:
//
//   - an SSE event named "error" (event: error, or an error: field line) is
//     an error whatever its data, with the message dec finds or else the one
//     ErrorMessage finds;
//   - a Bare frame (a line of JSON outside SSE's syntax) is an error when it
//     is an error object (see IsErrorObject), and is otherwise ignored;
//   - a frame dec rejects, or finds nothing in, that is an error object is
//     an error; so is one dec rejects that starts as one ({"error": ...)
//     but is not valid JSON.
//
// An error event made by these rules carries nothing but Err.
func DecodeFrame(dec Decoder, f *Frame, ev *Event) error {
	if f.Bare {
		switch {
		case IsErrorObject(f.Data):
			ev.Err = ErrorMessage(f.Data)
		case startsAsError(f.Data):
			ev.Err = cleanMessage(string(f.Data))
		}
		return nil
	}
	err := dec.Decode(f, ev)
	if bytes.EqualFold(f.Event, []byte("error")) {
		if err != nil || ev.Err == "" {
			*ev = Event{Err: ErrorMessage(f.Data)}
		}
		return nil
	}
	if err == nil && *ev == (Event{}) && IsErrorObject(f.Data) {
		// An error the decoder took for a frame with nothing in it: an
		// envelope its API does not use ({"type": "error"} on an OpenAI
		// stream, {"error": ...} where a generic spec names no error path).
		*ev = Event{Err: ErrorMessage(f.Data)}
		return nil
	}
	if err != nil {
		switch {
		case IsErrorObject(f.Data):
			*ev = Event{Err: ErrorMessage(f.Data)}
			return nil
		case startsAsError(f.Data):
			// Not valid JSON, but plainly an error: a gateway that pastes an
			// unescaped message into {"error": "..."}. Its text is the
			// message.
			*ev = Event{Err: cleanMessage(string(f.Data))}
			return nil
		}
		return err
	}
	return nil
}

// startsAsError reports whether data begins like an error object, with the
// key "error" first, whether or not the rest is valid JSON.
func startsAsError(data []byte) bool {
	data = bytes.TrimLeft(data, " \t\r\n")
	if len(data) == 0 || data[0] != '{' {
		return false
	}
	data = bytes.TrimLeft(data[1:], " \t\r\n")
	rest, ok := bytes.CutPrefix(data, []byte(`"error"`))
	return ok && bytes.HasPrefix(bytes.TrimLeft(rest, " \t\r\n"), []byte(":"))
}

// IsErrorObject reports whether data is a JSON object that says it is an
// error: it has an "error" member that is not null or false (vLLM, SGLang,
// TGI, llama.cpp, Ollama, Triton and most proxies), or "object": "error"
// (older vLLM) or "type": "error" (Anthropic, OpenAI Responses).
func IsErrorObject(data []byte) bool {
	// Every form has "error" as a key or a value: most frames are ruled
	// out without a parse.
	if !IsJSONObject(data) || !bytes.Contains(data, []byte(`"error"`)) {
		return false
	}
	var p fastjson.Parser
	v, err := p.ParseBytes(data)
	if err != nil || v.Type() != fastjson.TypeObject {
		return false
	}
	if e := v.Get("error"); e != nil && e.Type() != fastjson.TypeNull && e.Type() != fastjson.TypeFalse {
		return true
	}
	return stringAt(v, "object") == "error" || stringAt(v, "type") == "error"
}

// ErrorMessage renders the payload of an error frame as one readable line:
// "type: message" from the error objects servers send ({"error": {"type",
// "message"}}, {"error": "...", "error_type": "..."}, {"type": "error",
// "error": {...}}, {"object": "error", "message": ...}, {"code", "message"}),
// a JSON string's text, or the text itself when it is not JSON. It is never
// empty, always valid UTF-8 on one line, and at most about MaxErrorMessage
// bytes.
func ErrorMessage(data []byte) string {
	data = bytes.TrimSpace(data)
	var p fastjson.Parser
	msg := ""
	if v, err := p.ParseBytes(data); err == nil {
		msg = describeError(v, 0)
	} else {
		msg = string(data)
	}
	return cleanMessage(msg)
}

// maxErrorDepth bounds how deep describeError follows nested "error"
// members.
const maxErrorDepth = 4

// describeError renders an error value: a string as it is, an object as
// "type: message" (following a nested "error" member), anything else (an
// object without either) as noDetails and its JSON.
func describeError(v *fastjson.Value, depth int) string {
	switch v.Type() {
	case fastjson.TypeString:
		return string(v.GetStringBytes())
	case fastjson.TypeObject:
	default:
		return noDetails + ": " + v.String()
	}
	if e := v.Get("error"); depth < maxErrorDepth && e != nil && e.Type() != fastjson.TypeNull && e.Type() != fastjson.TypeFalse {
		inner := describeError(e, depth+1)
		if e.Type() == fastjson.TypeString {
			// TGI: {"error": "...", "error_type": "..."}.
			if t := stringAt(v, "error_type"); t != "" {
				inner = t + ": " + inner
			}
		}
		return inner
	}
	msg := ""
	for _, k := range [...]string{"message", "detail", "msg", "error_message"} {
		if msg = stringAt(v, k); msg != "" {
			break
		}
	}
	kind := stringAt(v, "type")
	if kind == "error" {
		kind = "" // the envelope's type, not the error's
	}
	for _, k := range [...]string{"error_type", "code"} {
		if kind != "" {
			break
		}
		kind = stringAt(v, k)
	}
	switch {
	case msg != "" && kind != "":
		return kind + ": " + msg
	case msg != "":
		return msg
	case kind != "":
		return kind
	}
	if o := v.GetObject(); o.Len() == 0 || (o.Len() == 1 && o.Get("type") != nil) {
		return noDetails // nothing but the envelope
	}
	return noDetails + ": " + v.String()
}

// stringAt returns the string member key of v, "" when absent or not a
// string.
func stringAt(v *fastjson.Value, key string) string {
	x := v.Get(key)
	if x == nil || x.Type() != fastjson.TypeString {
		return ""
	}
	return string(x.GetStringBytes())
}

// cleanMessage makes s one bounded line of valid UTF-8, never empty.
func cleanMessage(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if len(s) > MaxErrorMessage {
		n := MaxErrorMessage
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n] + "..."
	}
	if s == "" {
		return noDetails
	}
	return s
}
