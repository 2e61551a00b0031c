package openai_test

import (
	"fmt"
	"strings"

	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/openai"
)

// A Responses stream decoded frame by frame: deltas are content or
// reasoning, the .done events repeat the text and are skipped, and
// response.completed carries the usage and ends the stream.
func ExampleResponses_NewDecoder() {
	stream := `event: response.reasoning_summary_text.delta
data: {"type":"response.reasoning_summary_text.delta","delta":"Compare 9.11 and 9.9."}

event: response.output_text.delta
data: {"type":"response.output_text.delta","delta":"9.9"}

event: response.output_text.done
data: {"type":"response.output_text.done","text":"9.9"}

event: response.completed
data: {"type":"response.completed","response":{"status":"completed","usage":{"input_tokens":18,"output_tokens":40,"output_tokens_details":{"reasoning_tokens":38}}}}

`
	fr := targets.NewSSEReader(strings.NewReader(stream), 0)
	dec := openai.Responses{}.NewDecoder()
	var f targets.Frame
	for fr.Next(&f) == nil {
		var ev targets.Event
		if err := dec.Decode(&f, &ev); err != nil {
			fmt.Println("protocol error:", err)
			return
		}
		switch {
		case ev.Reasoning != "":
			fmt.Printf("reasoning %q\n", ev.Reasoning)
		case ev.Content != "":
			fmt.Printf("content %q\n", ev.Content)
		case ev.Usage != nil:
			fmt.Printf("done=%v: input %d, output %d (reasoning %d)\n", ev.Done,
				ev.Usage.PromptTokens, ev.Usage.CompletionTokens, ev.Usage.ReasoningTokens)
		}
	}
	// Output:
	// reasoning "Compare 9.11 and 9.9."
	// content "9.9"
	// done=true: input 18, output 40 (reasoning 38)
}
