"""Writes text-encoder-masked.onnx, a stand-in text encoder that takes an attention mask (test only).

input_ids int64 [B, 16], attention_mask int64 [B, 16] -> context float32 [B, 16, 64] with
context[b, t, :] = attention_mask[b, t] * (input_ids[b, t] + 100): a masked position reads 0, so a
test can see which mask the model got. Rebuild: /usr/bin/python3 make_masked_encoder.py (onnx 1.12).
"""
import onnx
from onnx import TensorProto, helper

L, D = 16, 64
graph = helper.make_graph(
    [
        helper.make_node("Add", ["input_ids", "hundred"], ["shifted"]),
        helper.make_node("Mul", ["shifted", "attention_mask"], ["masked"]),
        helper.make_node("Cast", ["masked"], ["masked_f"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["masked_f", "axis2"], ["column"]),
        helper.make_node("Expand", ["column", "width"], ["context"]),
    ],
    "masked_text_encoder",
    [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", L]),
     helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", L])],
    [helper.make_tensor_value_info("context", TensorProto.FLOAT, ["batch", L, D])],
    initializer=[helper.make_tensor("hundred", TensorProto.INT64, [], [100]),
                 helper.make_tensor("axis2", TensorProto.INT64, [1], [2]),
                 helper.make_tensor("width", TensorProto.INT64, [3], [1, 1, D])],
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 16)], producer_name="flowblend-test")
model.ir_version = 8
onnx.checker.check_model(model, full_check=True)
onnx.save(model, "text-encoder-masked.onnx")
