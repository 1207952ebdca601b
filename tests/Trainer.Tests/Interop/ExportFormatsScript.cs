namespace Orchestrator.Trainer.Tests.Interop;

/// <summary>
/// The PyTorch side of the format tests: loads each exported file (a .pt through torch.load with weights_only
/// where the PyTorch reads floats, safetensors from its published layout) and checks every tensor's dtype,
/// shape and bytes against the spec the test wrote, then, if asked, loads the optimizer state into the named
/// torch.optim class and checks each state tensor bit for bit. Prints "OK path" per file; a difference goes
/// to stderr with exit 1.
/// </summary>
internal static class ExportFormatsScript
{
    public const string Source = """
        import collections, json, struct, sys
        import torch

        spec = json.load(open(sys.argv[1]))
        DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "I64": torch.int64, "F64": torch.float64,
                  "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8, "BOOL": torch.bool}

        def fail(message):
            print("FAIL " + message, file=sys.stderr)
            sys.exit(1)

        def raw(t):
            return bytes(t.detach().contiguous().reshape(-1).view(torch.uint8).numpy())

        def read_safetensors(path):
            data = open(path, "rb").read()
            n = struct.unpack("<Q", data[:8])[0]
            header = json.loads(data[8:8 + n])
            meta = header.pop("__metadata__", {})
            tensors = collections.OrderedDict()
            for name, entry in header.items():
                begin, stop = entry["data_offsets"]
                chunk = bytearray(data[8 + n + begin:8 + n + stop])
                dtype = DTYPES[entry["dtype"]]
                flat = torch.frombuffer(chunk, dtype=dtype) if chunk else torch.empty(0, dtype=dtype)
                tensors[name] = flat.reshape(entry["shape"])
            return tensors, meta

        def load_pt(path):
            try:
                return torch.load(path, weights_only=True)
            except Exception:
                if int(torch.__version__.split(".")[0]) >= 2 or not spec.get("optimizer"):
                    raise
                return torch.load(path, weights_only=False)  # torch 1.13 reads no floats weights-only; the process test checks the pickle

        def check(where, tensors):
            if list(tensors) != list(spec["tensors"]):
                fail(f"{where}: names {list(tensors)}, expected {list(spec['tensors'])}")
            for name, expected in spec["tensors"].items():
                t = tensors[name]
                if str(t.dtype) != expected["dtype"] or list(t.shape) != expected["shape"] or raw(t).hex() != expected["hex"]:
                    fail(f"{where}: {name} is {t.dtype} {list(t.shape)} {raw(t).hex()}, expected {expected}")

        def check_optimizer(where, state_dict):
            opt = spec["optimizer"]
            params = [torch.nn.Parameter(torch.zeros(shape)) for shape in opt["shapes"]]
            optimizer = getattr(torch.optim, opt["class"])(params, lr=0.5)
            optimizer.load_state_dict(state_dict)
            group = optimizer.param_groups[0]
            for key, value in opt["group"].items():
                actual = list(group[key]) if isinstance(group[key], tuple) else group[key]
                if actual != value:
                    fail(f"{where}: param_groups[0][{key!r}] is {group[key]!r}, expected {value!r}")
            for index, (parameter, expected) in enumerate(zip(params, opt["states"])):
                state = optimizer.state[parameter]
                if sorted(state) != sorted(expected):
                    fail(f"{where}: state {index} holds {sorted(state)}, expected {sorted(expected)}")
                for key, value in expected.items():
                    if raw(state[key]).hex() != value:
                        fail(f"{where}: state {index} {key} differs")

        for path in spec["pt"]:
            loaded = load_pt(path)
            check(path, loaded["model"] if spec.get("optimizer") else loaded)
            if spec.get("optimizer"):
                check_optimizer(path, loaded["optimizer"])
            print(f"OK {path}")
        for path in spec["safetensors"]:
            tensors, meta = read_safetensors(path)
            check(path, tensors)
            if spec.get("optimizer"):
                state_tensors, optimizer_meta = read_safetensors(path[:-len(".safetensors")] + ".optimizer.safetensors")
                state = collections.defaultdict(dict)
                for name, tensor in state_tensors.items():
                    _, index, key = name.split(".", 2)
                    state[int(index)][key] = tensor
                groups = json.loads(optimizer_meta["param_groups"])
                for group in groups:
                    if "betas" in group:
                        group["betas"] = tuple(group["betas"])
                check_optimizer(path, {"state": dict(state), "param_groups": groups})
            print(f"OK {path}")
        """;
}
