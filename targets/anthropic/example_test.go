package anthropic_test

import (
	"fmt"
	"strings"

	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/anthropic"
)

// A Messages stream decoded frame by frame: text deltas are content, the
// usage arrives with message_delta, and message_stop ends the stream.
func ExampleMessages_NewDecoder() {
	stream := `event: message_start
data: {"type":"message_start","message":{"usage":{"input_tokens":10,"cache_read_input_tokens":90,"output_tokens":1}}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":2}}

event: message_stop
data: {"type":"message_stop"}

`
	fr := targets.NewSSEReader(strings.NewReader(stream), 0)
	dec := anthropic.Messages{}.NewDecoder()
	var f targets.Frame
	for fr.Next(&f) == nil {
		var ev targets.Event
		if err := dec.Decode(&f, &ev); err != nil {
			fmt.Println("protocol error:", err)
			return
		}
		switch {
		case ev.Content != "":
			fmt.Printf("%s: content %q\n", f.Event, ev.Content)
		case ev.Usage != nil:
			fmt.Printf("%s: prompt %d, output %d tokens\n", f.Event, ev.Usage.PromptTokens, ev.Usage.CompletionTokens)
		case ev.Done:
			fmt.Printf("%s: done\n", f.Event)
		}
	}
	// Output:
	// content_block_delta: content "Hi"
	// message_delta: prompt 100, output 2 tokens
	// message_stop: done
}

// The request body: max_tokens is always sent, and system messages move to
// the top-level system field.
func ExampleMessages_Body() {
	body, _ := anthropic.Messages{}.Body(&targets.Request{
		Model:     "claude-haiku-4-5",
		MaxTokens: 256,
		Messages: []targets.Message{
			{Role: "system", Content: "Answer in one word."},
			{Role: "user", Content: "Capital of France?"},
		},
	})
	fmt.Println(string(body))
	// Output:
	// {"model":"claude-haiku-4-5","max_tokens":256,"system":"Answer in one word.","messages":[{"role":"user","content":"Capital of France?"}],"stream":true}
}
