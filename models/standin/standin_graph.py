"""A small ONNX graph builder for wan_standin.py: seeded bfloat16-rounded weights, external data
written in a fixed layout (so files are byte-identical run to run), and FLOPs counted by evaluating
the graph at batch 1 with numpy under the counting rules of models/train/flops.py."""
import os
import sys

import numpy as np
from onnx import TensorProto, helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "train"))
import flops as rules  # noqa: E402  (the bundled family's FLOP rules; numpy + onnx only)

OPSET = 17
IR_VERSION = 8            # onnx 1.12's; ONNX Runtime 1.23 reads IR 3..11
ALIGN = 4096              # external data offsets: page-aligned, so a runtime may map them
CHUNK = 1 << 22           # elements per independently seeded chunk of a streamed table
ELEMENTWISE = rules.ELEMENTWISE | {"Floor"}
FREE = rules.FREE


def bf16_bits(a):
    """float32 -> bfloat16 bits, rounding to nearest, ties to even (no NaNs here)."""
    u = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32)
    return ((u + np.uint32(0x7FFF) + ((u >> np.uint32(16)) & np.uint32(1))) >> np.uint32(16)).astype(np.uint16)


def bf16_round(a):
    """float32 values rounded to the nearest bfloat16, as float32."""
    return (bf16_bits(a).astype(np.uint32) << np.uint32(16)).view(np.float32)


class Table:
    """A [rows, width] weight generated chunk by chunk (each chunk its own seed), never held whole."""

    def __init__(self, seed, rows, width, std):
        self.seed, self.rows, self.width, self.std = seed, rows, width, std

    def _chunk(self, c):
        n = min(CHUNK, self.rows * self.width - c * CHUNK)
        rng = np.random.default_rng(np.random.SeedSequence(self.seed + [c]))
        return bf16_round(rng.standard_normal(n, dtype=np.float32) * np.float32(self.std))

    def chunks(self):
        for c in range((self.rows * self.width + CHUNK - 1) // CHUNK):
            yield self._chunk(c)

    def take(self, idx):
        out = np.empty(idx.shape + (self.width,), np.float32)
        for pos, r in np.ndenumerate(idx):
            start = int(r) * self.width
            vals = []
            while len(vals) < self.width:
                c, off = divmod(start + len(vals), CHUNK)
                vals.extend(self._chunk(c)[off:off + self.width - len(vals)])
            out[pos] = vals
        return out


class Graph:
    """One model under construction. Floating weights are bfloat16-rounded; in a bfloat16 family they
    are stored as bfloat16 and cast to float32 in the graph, in a float32 family stored as float32."""

    def __init__(self, name, family, seed, stream):
        self.name, self.family = name, family
        self.seed, self.stream = seed, stream
        self.rng = np.random.default_rng(np.random.SeedSequence([seed, stream]))
        self.nodes, self.inputs, self.outputs = [], [], []
        self.input_dims, self.output_dims = [], []
        self.weights = {}          # name -> float32 array or Table, in creation order
        self.n = 0

    def _name(self, op):
        self.n += 1
        return f"{op.lower()}_{self.n}"

    def input(self, name, elem, dims):
        self.inputs.append(helper.make_tensor_value_info(name, elem, dims))
        self.input_dims.append(dims)
        return name

    def input_names(self):
        return [i.name for i in self.inputs]

    def output(self, name, src, dims, elem=None):
        self.nodes.append(helper.make_node("Identity", [src], [name]))
        self.outputs.append(helper.make_tensor_value_info(name, self.family if elem is None else elem, dims))
        self.output_dims.append(dims)

    def op(self, op_type, *inputs, **attrs):
        out = self._name(op_type)
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], **attrs))
        return out

    def const_i64(self, values):
        return self.op("Constant", value=helper.make_tensor("v", TensorProto.INT64, [len(values)], values))

    def const_f32(self, array):
        a = np.asarray(array, np.float32)
        return self.op("Constant", value=helper.make_tensor("v", TensorProto.FLOAT, a.shape, a.ravel().tolist()))

    def to_f32(self, x):
        return self.op("Cast", x, to=TensorProto.FLOAT) if self.family == TensorProto.BFLOAT16 else x

    def to_family(self, x):
        return self.op("Cast", x, to=self.family) if self.family == TensorProto.BFLOAT16 else x

    def _stored(self, name, value):
        self.weights[name] = value
        return name

    def weight(self, name, shape, std, mean=0.0):
        v = bf16_round(np.float32(mean) + self.rng.standard_normal(shape, dtype=np.float32) * np.float32(std))
        return self.to_f32(self._stored(name, v))

    def table(self, name, rows, width, std):
        """A streamed [rows, width] weight in the family dtype (not cast: gather rows first)."""
        return self._stored(name, Table([self.seed, self.stream, 1000 + len(self.weights)], rows, width, std))

    def linear(self, x, name, din, dout):
        y = self.op("MatMul", x, self.weight(name + ".weight", (din, dout), 1.0 / np.sqrt(din)))
        return self.op("Add", y, self.weight(name + ".bias", (dout,), 0.02))

    def layer_norm(self, x, name, dim):
        return self.op("LayerNormalization", x, self.weight(name + ".scale", (dim,), 0.05, mean=1.0),
                       self.weight(name + ".bias", (dim,), 0.02), axis=-1, epsilon=1e-5)

    def silu(self, x):
        return self.op("Mul", x, self.op("Sigmoid", x))

    def params(self):
        return int(sum(w.rows * w.width if isinstance(w, Table) else w.size for w in self.weights.values()))

    def _payload(self, w):
        """The stored bytes of a weight, in chunks."""
        for chunk in (w.chunks() if isinstance(w, Table) else [w.ravel()]):
            yield (bf16_bits(chunk) if self.family == TensorProto.BFLOAT16 else chunk.astype("<f4")).tobytes()

    def save(self, path, data_name=None):
        """Writes the model; with data_name every weight goes to that external data file (next to the
        model), each at a page-aligned offset in creation order. Returns the ModelProto written."""
        inits = []
        data = open(os.path.join(os.path.dirname(path), data_name), "wb") if data_name else None
        try:
            for name, w in self.weights.items():
                dims = [w.rows, w.width] if isinstance(w, Table) else list(w.shape)
                t = TensorProto(name=name, data_type=self.family, dims=dims)
                if data is None:
                    t.raw_data = b"".join(self._payload(w))
                else:
                    offset = (data.tell() + ALIGN - 1) // ALIGN * ALIGN
                    data.write(b"\0" * (offset - data.tell()))
                    for b in self._payload(w):
                        data.write(b)
                    t.data_location = TensorProto.EXTERNAL
                    for k, v in (("location", data_name), ("offset", str(offset)),
                                 ("length", str(data.tell() - offset))):
                        t.external_data.add(key=k, value=v)
                inits.append(t)
        finally:
            if data:
                data.close()
        graph = helper.make_graph(self.nodes, self.name, self.inputs, self.outputs, initializer=inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                  producer_name="flowblend wan_standin.py", ir_version=IR_VERSION)
        with open(path, "wb") as fh:
            fh.write(model.SerializeToString())
        return model

    def evaluate(self, feeds):
        """Runs the graph with numpy (weights as float32); returns every tensor by name."""
        env = dict(feeds)
        env.update(self.weights)
        for node in self.nodes:
            attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
            env[node.output[0]] = _run(node.op_type, [env[i] for i in node.input], attrs)
        return env

    def flops(self, feeds):
        """FLOPs of one evaluation (batch 1), under train/flops.py's rules plus ConvTranspose:
        2 per multiply-add, 1 per output element of elementwise ops, Softmax 5, LayerNorm 8."""
        env = self.evaluate(feeds)
        shape = {k: list(np.shape(v)) if not isinstance(v, Table) else [v.rows, v.width] for k, v in env.items()}
        total = 0
        for node in self.nodes:
            t, out = node.op_type, shape[node.output[0]]
            n_out = int(np.prod(out)) if out else 1
            if t in FREE:
                continue
            if t == "MatMul":
                total += 2 * n_out * shape[node.input[0]][-1]
            elif t == "ConvTranspose":
                w = shape[node.input[1]]
                total += 2 * int(np.prod(shape[node.input[0]])) * int(np.prod(w[1:])) + n_out
            elif t in rules.HEAVY:
                total += rules.HEAVY[t] * n_out
            elif t in ELEMENTWISE:
                total += n_out
            else:
                raise ValueError(f"{self.name}: no FLOP rule for {t}")
        return int(total)


def _run(op, x, a):
    """numpy semantics of the ONNX ops the stand-in uses (float32 arithmetic)."""
    if op == "Constant":
        from onnx import numpy_helper
        return numpy_helper.to_array(a["value"])
    if op == "Cast":
        to = a["to"]
        if to == TensorProto.INT64:
            return np.asarray(x[0]).astype(np.int64)
        return bf16_round(x[0]) if to == TensorProto.BFLOAT16 else np.asarray(x[0], np.float32)
    if op == "Identity":
        return x[0]
    if op == "Shape":
        return np.array(np.shape(x[0]), np.int64)
    if op == "Gather":
        if isinstance(x[0], Table):
            return x[0].take(np.asarray(x[1]))
        return np.take(x[0], x[1], axis=a.get("axis", 0))
    if op == "Concat":
        return np.concatenate(x, axis=a["axis"])
    if op == "Reshape":
        return np.reshape(x[0], [int(d) for d in x[1]])
    if op == "Transpose":
        return np.transpose(x[0], a["perm"])
    if op == "Unsqueeze":
        return np.expand_dims(x[0], tuple(int(d) for d in x[1]))
    if op == "Slice":
        sl = [slice(None)] * np.ndim(x[0])
        sl[int(x[3][0])] = slice(int(x[1][0]), int(x[2][0]))
        return x[0][tuple(sl)]
    if op == "Div":
        return x[0] // x[1] if np.asarray(x[0]).dtype == np.int64 else (x[0] / x[1]).astype(np.float32)
    simple = {"Add": np.add, "Mul": np.multiply, "Sub": np.subtract, "MatMul": np.matmul}
    if op in simple:
        return simple[op](x[0], x[1]).astype(np.float32)
    unary = {"Cos": np.cos, "Sin": np.sin, "Floor": np.floor, "Sigmoid": lambda v: 1 / (1 + np.exp(-v))}
    if op in unary:
        return unary[op](x[0]).astype(np.float32)
    if op == "Clip":
        return np.clip(x[0], x[1], x[2]).astype(np.float32)
    if op == "Softmax":
        e = np.exp(x[0] - x[0].max(axis=a["axis"], keepdims=True))
        return (e / e.sum(axis=a["axis"], keepdims=True)).astype(np.float32)
    if op == "LayerNormalization":
        m = x[0].mean(axis=-1, keepdims=True)
        v = ((x[0] - m) ** 2).mean(axis=-1, keepdims=True)
        return ((x[0] - m) / np.sqrt(v + a["epsilon"]) * x[1] + x[2]).astype(np.float32)
    if op == "ConvTranspose":
        kt, kh, kw = a["kernel_shape"]
        y = np.einsum("bcijl,coxyz->boixjylz", x[0], x[1])
        b, o, i, _, j, _, l, _ = y.shape
        return (y.reshape(b, o, i * kt, j * kh, l * kw) + x[2].reshape(1, -1, 1, 1, 1)).astype(np.float32)
    raise ValueError(f"no numpy rule for {op}")
