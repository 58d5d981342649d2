"""FLOPs per sample counted from an ONNX graph (batch fixed to 1, shapes inferred).

Counting rule: MatMul/Gemm/Conv count 2 FLOPs per multiply-accumulate (plus the bias add);
elementwise ops, reductions and activations count 1 FLOP per output element (Softmax and Erf 5);
shape-only ops (Reshape, Transpose, Gather, Concat, ...) count 0.
"""
import numpy as np
import onnx
from onnx import shape_inference

ELEMENTWISE = {"Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Sigmoid", "Relu", "Tanh", "Exp", "Neg", "Cos", "Sin",
               "ReduceMean", "ReduceSum", "Where", "Clip", "Max", "Min", "Abs", "Reciprocal", "Log"}
HEAVY = {"Softmax": 5, "Erf": 5, "InstanceNormalization": 5, "GroupNormalization": 5, "LayerNormalization": 8,
         "Resize": 1}
FREE = {"Reshape", "Transpose", "Gather", "Concat", "Unsqueeze", "Squeeze", "Shape", "Constant", "Slice", "Cast",
        "Split", "Expand", "ConstantOfShape", "Identity", "Range", "Equal", "Flatten", "Tile", "ScatterND"}


def _fix_batch(model):
    for vi in list(model.graph.input) + list(model.graph.output):
        dims = vi.type.tensor_type.shape.dim
        if dims and not dims[0].HasField("dim_value"):
            dims[0].dim_value = 1
    return model


def count(path):
    model = onnx.load(path)
    model = _fix_batch(model)
    del model.graph.value_info[:]
    # data_prop resolves Reshape targets computed from Shape/Gather/Concat once the batch is fixed
    model = shape_inference.infer_shapes(model, strict_mode=True, data_prop=True)
    shapes = {}
    for vi in list(model.graph.value_info) + list(model.graph.input) + list(model.graph.output):
        if not vi.type.tensor_type.HasField("shape"):
            continue
        dims = vi.type.tensor_type.shape.dim
        if all(d.HasField("dim_value") for d in dims):
            shapes[vi.name] = [d.dim_value for d in dims]
    for init in model.graph.initializer:
        shapes[init.name] = list(init.dims)
    total = 0
    unknown = set()
    for node in model.graph.node:
        out = shapes.get(node.output[0])
        if node.op_type in FREE:
            continue
        if out is None:
            unknown.add(node.op_type)
            continue
        n_out = int(np.prod(out)) if out else 1
        if node.op_type == "MatMul":
            a = shapes[node.input[0]]
            total += 2 * n_out * a[-1]
        elif node.op_type == "Gemm":
            a = shapes[node.input[0]]
            trans_a = any(at.name == "transA" and at.i for at in node.attribute)
            k = a[0] if trans_a else a[-1]
            total += 2 * n_out * k + (n_out if len(node.input) > 2 else 0)
        elif node.op_type == "Conv":
            w = shapes[node.input[1]]
            total += 2 * n_out * int(np.prod(w[1:])) + (n_out if len(node.input) > 2 else 0)
        elif node.op_type in HEAVY:
            total += HEAVY[node.op_type] * n_out
        elif node.op_type in ELEMENTWISE:
            total += n_out
        else:
            unknown.add(node.op_type)
    if unknown:
        raise ValueError(f"{path}: no FLOP rule or shape for ops {sorted(unknown)}")
    return int(total)


def params(path):
    model = onnx.load(path)
    return int(sum(np.prod(i.dims) for i in model.graph.initializer
                   if i.data_type == onnx.TensorProto.FLOAT and len(i.dims) > 0))
