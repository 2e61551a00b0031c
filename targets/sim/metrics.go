package sim

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"sync/atomic"
)

// latenessBounds are the upper bounds (seconds) of the token-lateness
// histogram: how long after its step's end a token was flushed.
var latenessBounds = [...]float64{50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3, 1}

// latency is a Prometheus histogram with lock-free recording.
type latency struct {
	counts [len(latenessBounds) + 1]atomic.Uint64
	sumNS  atomic.Int64
}

func (h *latency) record(ns int64) {
	if ns < 0 {
		ns = 0
	}
	s := float64(ns) / 1e9
	i := 0
	for i < len(latenessBounds) && s > latenessBounds[i] {
		i++
	}
	h.counts[i].Add(1)
	h.sumNS.Add(ns)
}

// counters are the server's own, engine-independent counts.
type counters struct {
	promptTokens, genTokens atomic.Uint64
	success                 atomic.Uint64
	chaos                   [chaosDrop + 1]atomic.Uint64
	lateness                latency
}

func (s *Server) handleMetrics(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	bw := bufio.NewWriter(w)
	s.writeMetrics(bw)
	bw.Flush()
}

// writeMetrics writes the Prometheus text exposition. The vllm: names and
// meanings are vLLM's, so dashboards and autoscalers written for vLLM read
// the simulator.
func (s *Server) writeMetrics(w io.Writer) {
	var st Stats
	rep, ok := s.engine.(StatsReporter)
	if ok {
		st = rep.Stats()
	} else {
		st.Running = int(s.inflight.Load())
	}
	usage := 0.0
	if st.KVTokens > 0 {
		usage = float64(st.KVUsed) / float64(st.KVTokens)
	}
	lbl := "{model_name=" + strconv.Quote(s.model) + "}"
	metric := func(name, typ, help string, v float64) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n%s%s %s\n", name, help, name, typ, name, lbl, num(v))
	}
	metric("vllm:num_requests_running", "gauge", "Number of requests in model execution batches.", float64(st.Running))
	metric("vllm:num_requests_waiting", "gauge", "Number of requests waiting to be processed.", float64(st.Waiting))
	metric("vllm:gpu_cache_usage_perc", "gauge", "GPU KV-cache usage. 1 means 100 percent usage.", usage)
	metric("vllm:kv_cache_usage_perc", "gauge", "KV-cache usage. 1 means 100 percent usage.", usage)
	metric("vllm:prompt_tokens_total", "counter", "Number of prefill tokens processed.", float64(s.count.promptTokens.Load()))
	metric("vllm:generation_tokens_total", "counter", "Number of generation tokens processed.", float64(s.count.genTokens.Load()))
	metric("vllm:num_preemptions_total", "counter", "Cumulative number of preemption from the engine.", float64(st.Preemptions))
	metric("vllm:prefix_cache_queries_total", "counter", "Prefix cache queries, in terms of number of queried tokens.", float64(st.PrefixQueries))
	metric("vllm:prefix_cache_hits_total", "counter", "Prefix cache hits, in terms of number of cached tokens.", float64(st.PrefixHits))
	fmt.Fprintf(w, "# HELP vllm:request_success_total Count of successfully processed requests.\n# TYPE vllm:request_success_total counter\n")
	fmt.Fprintf(w, "vllm:request_success_total{finished_reason=\"length\",model_name=%s} %d\n", strconv.Quote(s.model), s.count.success.Load())

	fmt.Fprintf(w, "# HELP streamgauge_sim_requests_in_flight Requests being served.\n# TYPE streamgauge_sim_requests_in_flight gauge\nstreamgauge_sim_requests_in_flight %d\n", s.inflight.Load())
	fmt.Fprintf(w, "# HELP streamgauge_sim_kv_cache_tokens KV-cache capacity in tokens.\n# TYPE streamgauge_sim_kv_cache_tokens gauge\nstreamgauge_sim_kv_cache_tokens %d\n", st.KVTokens)
	fmt.Fprintf(w, "# HELP streamgauge_sim_steps_total Engine steps run.\n# TYPE streamgauge_sim_steps_total counter\nstreamgauge_sim_steps_total %d\n", st.Steps)
	fmt.Fprintf(w, "# HELP streamgauge_sim_step_slips_total Times the engine fell more than 50 ms behind its schedule and restarted it from the current time.\n# TYPE streamgauge_sim_step_slips_total counter\nstreamgauge_sim_step_slips_total %d\n", st.Slips)
	fmt.Fprintf(w, "# HELP streamgauge_sim_chaos_total Failures injected, by kind.\n# TYPE streamgauge_sim_chaos_total counter\n")
	for k := chaos429; k <= chaosDrop; k++ {
		fmt.Fprintf(w, "streamgauge_sim_chaos_total{kind=%q} %d\n", k.String(), s.count.chaos[k].Load())
	}
	const lname = "streamgauge_sim_token_lateness_seconds"
	fmt.Fprintf(w, "# HELP %s How long after the engine meant it to leave each token was flushed.\n# TYPE %s histogram\n", lname, lname)
	var cum uint64
	for i, b := range latenessBounds {
		cum += s.count.lateness.counts[i].Load()
		fmt.Fprintf(w, "%s_bucket{le=%q} %d\n", lname, num(b), cum)
	}
	cum += s.count.lateness.counts[len(latenessBounds)].Load()
	fmt.Fprintf(w, "%s_bucket{le=\"+Inf\"} %d\n%s_sum %s\n%s_count %d\n", lname, cum, lname, num(float64(s.count.lateness.sumNS.Load())/1e9), lname, cum)
}

func num(v float64) string {
	if math.IsInf(v, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
