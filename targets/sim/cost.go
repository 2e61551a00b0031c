package sim

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// StepLoad is what one engine step computes: the input of the cost model.
type StepLoad struct {
	// Tokens is every token computed in the step: prefill (or recompute)
	// tokens plus one per decoding sequence.
	Tokens int
	// Decodes is the number of sequences that decode one token.
	Decodes int
	// Context is the KV-cache tokens the step's attention reads: for each
	// scheduled sequence, the tokens already cached plus those computed now.
	Context int64
}

// Prefill is the number of prefill tokens of the step.
func (l StepLoad) Prefill() int { return l.Tokens - l.Decodes }

// CostModel gives the duration of one engine step. The GPU part of a step is
//
//	gpu = Tokens·PerToken + WeightRead + Context·PerContextToken
//
// (compute for every token, one read of the weights, one read of the batch's
// KV cache), and the step takes
//
//	Overhead + max(floor, gpu)
//
// where floor is LaunchFloor, or DecodeLaunchFloor for a step that decodes.
// The floor models a host that launches kernels one by one (no CUDA graphs):
// the GPU cannot finish before the last kernel is launched, and launching
// overlaps with computing. docs/schedulers.md derives each preset.
type CostModel struct {
	// Name is the preset name ("" for a hand-made model).
	Name string
	// Description says what hardware and model shape the preset stands for.
	Description string
	// Overhead is host work per step that does not overlap the GPU:
	// scheduling, sampling, tensor-parallel all-reduce latency.
	Overhead time.Duration
	// LaunchFloor is the least GPU time of a step (0 with CUDA graphs).
	LaunchFloor time.Duration
	// DecodeLaunchFloor is the floor of a step that decodes (a decode step
	// launches more kernels: the KV-cache update). 0 means LaunchFloor.
	DecodeLaunchFloor time.Duration
	// PerToken is the compute time of one token: 2·params FLOPs over the
	// achievable FLOP/s (plus tensor-parallel all-reduce bandwidth).
	PerToken time.Duration
	// WeightRead is the time to read the weights once: params·bytes over
	// the achievable HBM bandwidth. Every step pays it.
	WeightRead time.Duration
	// PerContextToken is the time to read one token's KV cache (K and V of
	// every layer) at the achievable bandwidth, in nanoseconds: tens of ns
	// on a server with paged attention, so a float keeps its precision.
	PerContextToken float64
	// KVTokens is the KV-cache capacity the hardware leaves after the
	// weights, in tokens (the default of --kv-tokens).
	KVTokens int
}

// StepTime is the duration of a step that computes l.
func (m *CostModel) StepTime(l StepLoad) time.Duration {
	gpu := time.Duration(l.Tokens)*m.PerToken + m.WeightRead + time.Duration(float64(l.Context)*m.PerContextToken)
	floor := m.LaunchFloor
	if l.Decodes > 0 && m.DecodeLaunchFloor > 0 {
		floor = m.DecodeLaunchFloor
	}
	return m.Overhead + max(floor, gpu)
}

// Validate reports a cost model that cannot work.
func (m *CostModel) Validate() error {
	if m.Overhead < 0 || m.LaunchFloor < 0 || m.DecodeLaunchFloor < 0 || m.PerToken < 0 || m.WeightRead < 0 || m.PerContextToken < 0 {
		return fmt.Errorf("cost model %q: every term must be non-negative", m.Name)
	}
	if m.StepTime(StepLoad{Tokens: 1, Decodes: 1, Context: 1}) <= 0 {
		return fmt.Errorf("cost model %q: a step must take some time", m.Name)
	}
	return nil
}

// GPU is the published figures of one accelerator that the cost model uses.
type GPU struct {
	Name string
	// FLOPs is the dense BF16 tensor throughput, FLOP/s.
	FLOPs float64
	// Bandwidth is the HBM bandwidth, bytes/s.
	Bandwidth float64
	// Memory is the HBM capacity, bytes.
	Memory float64
	// Link is the GPU-to-GPU bandwidth per direction, bytes/s.
	Link float64
}

// The GPUs of the presets, from NVIDIA's datasheets (docs/schedulers.md
// gives the sources). The datasheets quote BF16 "with sparsity"; dense is
// half of it.
var (
	H100 = GPU{Name: "H100 SXM5 80GB", FLOPs: 989e12, Bandwidth: 3.35e12, Memory: 80e9, Link: 450e9}
	H200 = GPU{Name: "H200 SXM 141GB", FLOPs: 989e12, Bandwidth: 4.8e12, Memory: 141e9, Link: 450e9}
)

// Shape is a dense decoder-only transformer's shape.
type Shape struct {
	Name                         string
	Hidden, Layers, Heads        int
	KVHeads, MLP, Vocab          int
	BytesPerParam, BytesPerCache float64
}

// The model shapes of the presets (their config.json on Hugging Face).
var (
	Llama8B  = Shape{Name: "Llama-3.1-8B", Hidden: 4096, Layers: 32, Heads: 32, KVHeads: 8, MLP: 14336, Vocab: 128256, BytesPerParam: 2, BytesPerCache: 2}
	Llama70B = Shape{Name: "Llama-3.1-70B", Hidden: 8192, Layers: 80, Heads: 64, KVHeads: 8, MLP: 28672, Vocab: 128256, BytesPerParam: 2, BytesPerCache: 2}
)

// Params is the parameter count: embeddings and an untied output head,
// attention (q, k, v, o), the gated MLP and the norms.
func (s Shape) Params() float64 {
	headDim := s.Hidden / s.Heads
	attn := s.Hidden*(s.Hidden+2*s.KVHeads*headDim) + s.Hidden*s.Hidden
	mlp := 3 * s.Hidden * s.MLP
	layer := attn + mlp + 2*s.Hidden
	return float64(s.Layers*layer + 2*s.Vocab*s.Hidden + s.Hidden)
}

// KVBytesPerToken is the K and V of every layer for one token.
func (s Shape) KVBytesPerToken() float64 {
	return 2 * float64(s.Layers*s.KVHeads*(s.Hidden/s.Heads)) * s.BytesPerCache
}

// Assumptions of the derived presets (docs/schedulers.md argues each).
const (
	// MFU is the share of peak FLOP/s a large GEMM achieves. The H200
	// measurement reaches 0.59 in prefill.
	MFU = 0.55
	// MBU is the share of peak HBM bandwidth a weight or KV read achieves.
	// The H200 measurement's weight-read term comes out at 0.81.
	MBU = 0.8
	// MemoryUtilization is the share of HBM the server may use (vLLM's
	// --gpu-memory-utilization default).
	MemoryUtilization = 0.9
	// HostOverhead is the per-step host work of a server with CUDA graphs.
	HostOverhead = time.Millisecond
	// AllReduceLatency is one small tensor-parallel all-reduce over NVLink.
	AllReduceLatency = 10 * time.Microsecond
)

// Derive builds the cost model of shape m on tp GPUs of g (tensor parallel),
// with CUDA graphs (no launch floor).
func Derive(name string, g GPU, m Shape, tp int) CostModel {
	params := m.Params()
	n := float64(tp)
	perToken := 2 * params / (n * g.FLOPs * MFU)
	weights := params * m.BytesPerParam / n / (g.Bandwidth * MBU)
	perCtx := m.KVBytesPerToken() / n / (g.Bandwidth * MBU)
	overhead := HostOverhead
	if tp > 1 {
		// Two all-reduces per layer: a fixed latency each, and the
		// activations of every token over the links (ring: 2(n-1)/n of
		// the message per GPU).
		allReduces := 2 * m.Layers
		overhead += time.Duration(allReduces) * AllReduceLatency
		perToken += float64(allReduces) * 2 * (n - 1) / n * float64(m.Hidden) * m.BytesPerParam / g.Link
	}
	kv := (n*g.Memory*MemoryUtilization - params*m.BytesPerParam) / m.KVBytesPerToken()
	desc := fmt.Sprintf("%s (%.2fB params) on %s", m.Name, params/1e9, g.Name)
	if tp > 1 {
		desc = fmt.Sprintf("%s (%.2fB params) on %d× %s, tensor parallel %d", m.Name, params/1e9, tp, g.Name, tp)
	}
	return CostModel{
		Name:            name,
		Description:     desc,
		Overhead:        overhead,
		PerToken:        seconds(perToken),
		WeightRead:      seconds(weights),
		PerContextToken: perCtx * 1e9,
		KVTokens:        int(kv),
	}
}

func seconds(s float64) time.Duration { return time.Duration(math.Round(s * 1e9)) }

// HFEagerH200 is the preset fitted to a measurement of an 8B Llama-shaped
// model on one H200 with Hugging Face transformers in eager mode
// (docs/schedulers.md; the data are in the repository's shared data folder
// and in testdata). Eager mode launches every kernel from Python, so a step
// never takes less than ~20 ms, and its attention (repeat_kv expands the
// 8 KV heads to 32, and the dynamic cache is concatenated each step) reads
// about 16× the ideal KV bytes.
var HFEagerH200 = CostModel{
	Name:              "h200-llama8b-hf-eager",
	Description:       "Llama-3.1-8B shape on one H200 SXM 141GB, Hugging Face transformers eager mode (fitted to a measurement)",
	Overhead:          0,
	LaunchFloor:       19800 * time.Microsecond,
	DecodeLaunchFloor: 23300 * time.Microsecond,
	PerToken:          27300 * time.Nanosecond,
	WeightRead:        4130 * time.Microsecond,
	PerContextToken:   450,
	KVTokens:          Derive("", H200, Llama8B, 1).KVTokens,
}

// presets lists the built-in cost models.
func presets() []CostModel {
	return []CostModel{
		Derive("h100-llama8b", H100, Llama8B, 1),
		Derive("h100-llama70b", H100, Llama70B, 4),
		Derive("h200-llama8b", H200, Llama8B, 1),
		Derive("h200-llama70b", H200, Llama70B, 2),
		HFEagerH200,
	}
}

// Presets returns the built-in cost models.
func Presets() []CostModel { return presets() }

// PresetNames lists the --preset values.
func PresetNames() []string {
	var out []string
	for _, p := range presets() {
		out = append(out, p.Name)
	}
	return out
}

// Preset returns the built-in cost model called name.
func Preset(name string) (CostModel, error) {
	ps := presets()
	if i := slices.IndexFunc(ps, func(p CostModel) bool { return p.Name == name }); i >= 0 {
		return ps[i], nil
	}
	return CostModel{}, fmt.Errorf("preset %q: want one of %s", name, strings.Join(PresetNames(), ", "))
}
