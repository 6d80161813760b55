"""Check ONNX models with onnx.checker.check_model(model, full_check=True).

Usage: check_model.py MODEL.onnx ...

Prints one line per model, "ok PATH" or "FAIL PATH: reason", and exits 1 if
any model fails, 3 if the onnx package cannot be imported (so the caller can
tell a missing checker from a rejected model). full_check also runs ONNX's
strict shape inference over the graph.
"""
import sys

try:
    import onnx
    import onnx.checker
except ImportError as e:  # pragma: no cover - depends on the machine
    print("onnx not importable: %s" % e)
    sys.exit(3)


def main(paths):
    failed = 0
    print("onnx %s, IR %d, opset %d" % (onnx.__version__, onnx.IR_VERSION, onnx.defs.onnx_opset_version()))
    for path in paths:
        try:
            onnx.checker.check_model(onnx.load(path), full_check=True)
        except Exception as e:  # the checker raises several exception types
            failed += 1
            print("FAIL %s: %s" % (path, " ".join(str(e).split())))
        else:
            print("ok %s" % path)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
