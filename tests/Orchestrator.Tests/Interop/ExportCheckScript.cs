namespace Orchestrator.Tests.Interop;

/// <summary>
/// The PyTorch side of the export tests: builds the built-in job's architecture in PyTorch, loads each
/// exported file (torch.load with weights_only for .pt; safetensors parsed from its published layout with the
/// standard library, since Debian ships no safetensors package), checks every tensor bit for bit against the
/// checkpoint's bytes the test wrote out, compares the output on the test's input with TorchSharp's, and loads
/// the optimizer state into torch.optim.Adam. Prints one OK line per file; at the first difference, says what on stderr and exits 1.
/// </summary>
internal static class ExportCheckScript
{
    public const string Source = """
        import collections, io, json, pickletools, struct, sys, zipfile
        import torch, torch.nn as nn, torch.nn.functional as F

        ref_dir, job, width = sys.argv[1], sys.argv[2], int(sys.argv[3])
        exports = sys.argv[4:]
        ref = json.load(open(f"{ref_dir}/ref.json"))
        DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "I64": torch.int64, "F64": torch.float64,
                  "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8, "BOOL": torch.bool}

        def fail(message):
            print("FAIL " + message, file=sys.stderr)
            sys.exit(1)

        class Mlp(nn.Module):
            def __init__(self, w):
                super().__init__()
                self.hidden1, self.hidden2, self.output = nn.Linear(16, w), nn.Linear(w, w), nn.Linear(w, 1)
            def forward(self, x):
                return self.output(F.relu(self.hidden2(F.relu(self.hidden1(x)))))

        class Cnn(nn.Module):
            def __init__(self, w):
                super().__init__()
                self.conv1, self.norm1 = nn.Conv2d(1, w, 3, padding=1), nn.BatchNorm2d(w)
                self.conv2, self.norm2 = nn.Conv2d(w, 2 * w, 3, padding=1), nn.BatchNorm2d(2 * w)
                self.head = nn.Linear(2 * w, 4)
            def forward(self, x):
                h = F.max_pool2d(F.relu(self.norm1(self.conv1(x))), 2)
                h = F.relu(self.norm2(self.conv2(h)))
                return self.head(h.mean([2, 3]))

        class CharLm(nn.Module):
            def __init__(self, w):
                super().__init__()
                vocabulary = ref["tensors"]["embedding.weight"]["shape"][0]
                self.embedding, self.hidden, self.output = nn.Embedding(vocabulary, 24), nn.Linear(16 * 24, w), nn.Linear(w, vocabulary)
            def forward(self, x):
                return self.output(torch.tanh(self.hidden(self.embedding(x).flatten(1))))

        def raw(t):
            return bytes(t.detach().contiguous().reshape(-1).view(torch.uint8).numpy())

        def ref_bytes(name):
            return open(f"{ref_dir}/{name}", "rb").read()

        def read_safetensors(path):
            data = open(path, "rb").read()
            n = struct.unpack("<Q", data[:8])[0]
            if (8 + n) % 8 != 0:
                fail(f"{path}: data does not start 8-byte aligned")
            header = json.loads(data[8:8 + n])
            meta = header.pop("__metadata__", {})
            tensors, end = collections.OrderedDict(), 0
            for name, entry in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
                begin, stop = entry["data_offsets"]
                if begin != end:
                    fail(f"{path}: {name} starts at {begin}, not at {end}")
                end = stop
                chunk = bytearray(data[8 + n + begin:8 + n + stop])
                dtype = DTYPES[entry["dtype"]]
                flat = torch.frombuffer(chunk, dtype=dtype) if chunk else torch.empty(0, dtype=dtype)
                tensors[name] = flat.reshape(entry["shape"])
            if 8 + n + end != len(data):
                fail(f"{path}: {len(data) - 8 - n - end} bytes after the last tensor")
            return tensors, meta

        ALLOWED_1_13 = {"PROTO", "GLOBAL", "REDUCE", "BUILD", "MARK", "TUPLE", "TUPLE1", "TUPLE2", "TUPLE3", "EMPTY_TUPLE", "EMPTY_DICT",
                        "EMPTY_LIST", "SETITEM", "SETITEMS", "APPEND", "APPENDS", "NONE", "NEWTRUE", "NEWFALSE", "BININT", "BININT1",
                        "BININT2", "LONG1", "BINUNICODE", "BINPERSID", "BINPUT", "BINGET", "LONG_BINPUT", "LONG_BINGET", "STOP"}

        def load_pt(path):
            with zipfile.ZipFile(path) as archive:
                for info in archive.infolist():
                    if info.compress_type != zipfile.ZIP_STORED:
                        fail(f"{path}: {info.filename} is compressed")
                    with open(path, "rb") as f:
                        f.seek(info.header_offset + 26)
                        name_length, extra_length = struct.unpack("<HH", f.read(4))
                    if (info.header_offset + 30 + name_length + extra_length) % 64 != 0:
                        fail(f"{path}: {info.filename} is not 64-byte aligned")
                names = archive.namelist()
                for record, content in (("archive/version", b"3\n"), ("archive/byteorder", b"little")):
                    if record not in names or archive.read(record) != content:
                        fail(f"{path}: {record} missing or not {content!r}")
                pickled = archive.read("archive/data.pkl")
            try:
                return torch.load(path, weights_only=True)
            except Exception as e:
                # torch 1.13's weights-only loader reads no floats (BINFLOAT), which an optimizer's lr needs; torch 2
                # reads them. On 1.13 the pickle is checked to hold nothing beyond that loader's opcodes and globals
                # plus floats, then loaded in full.
                if int(torch.__version__.split(".")[0]) >= 2:
                    fail(f"{path}: torch.load(weights_only=True) failed: {e}")
                allowed_globals = {"collections OrderedDict", "torch._utils _rebuild_tensor_v2"} | {f"torch {s.__name__}" for s in torch._storage_classes}
                for op, arg, _ in pickletools.genops(pickled):
                    if op.name == "GLOBAL" and arg not in allowed_globals:
                        fail(f"{path}: pickle names {arg}")
                    if op.name not in ALLOWED_1_13 | {"BINFLOAT"}:
                        fail(f"{path}: pickle uses {op.name}")
                return torch.load(path, weights_only=False)

        model = {"mlp": Mlp, "cnn": Cnn, "charlm": CharLm}[job](width)
        for spec in exports:
            kind, path, prefix = spec.split("|")
            optimizer_state = None
            if kind == "safetensors":
                state_dict, meta = read_safetensors(path)
                for key, value in (("job", job), ("step", str(ref["step"])), ("weights-sha256", ref["weightsSha256"]), ("exporter", "orchestrator"), ("source-checkpoint", ref["checkpoint"])):
                    if meta.get(key) != value:
                        fail(f"{path}: metadata {key} is {meta.get(key)!r}, not {value!r}")
                optimizer_path = path[:-len(".safetensors")] + ".optimizer.safetensors"
                try:
                    tensors, optimizer_meta = read_safetensors(optimizer_path)
                    state = collections.defaultdict(dict)
                    for name, tensor in tensors.items():
                        _, index, key = name.split(".", 2)
                        state[int(index)][key] = tensor
                    groups = json.loads(optimizer_meta["param_groups"])
                    for group in groups:
                        group["betas"] = tuple(group["betas"])
                    optimizer_state = {"state": dict(state), "param_groups": groups}
                except FileNotFoundError:
                    pass
            else:
                loaded = load_pt(path)
                state_dict = loaded["model"] if "optimizer" in loaded else loaded
                optimizer_state = loaded.get("optimizer")
                if not isinstance(state_dict, collections.OrderedDict):
                    fail(f"{path}: the state dict is a {type(state_dict).__name__}")
            if any(not k.startswith(prefix) for k in state_dict):
                fail(f"{path}: a name lacks the prefix {prefix!r}")
            state_dict = collections.OrderedDict((k[len(prefix):], v) for k, v in state_dict.items())
            model.load_state_dict(state_dict, strict=True)
            live = model.state_dict()
            for name, entry in ref["tensors"].items():
                tensor = live[name]
                if str(tensor.dtype) != entry["dtype"] or list(tensor.shape) != entry["shape"]:
                    fail(f"{path}: {name} is {tensor.dtype} {list(tensor.shape)}, the checkpoint {entry['dtype']} {entry['shape']}")
                if raw(tensor) != ref_bytes(entry["file"]) or raw(state_dict[name]) != ref_bytes(entry["file"]):
                    fail(f"{path}: {name} differs from the checkpoint's bytes")
            model.eval()
            x = torch.frombuffer(bytearray(ref_bytes("input.bin")), dtype=torch.int64 if job == "charlm" else torch.float32).reshape(ref["inputShape"])
            expected = torch.frombuffer(bytearray(ref_bytes("output.bin")), dtype=torch.float32).reshape(ref["outputShape"])
            with torch.no_grad():
                difference = (model(x) - expected).abs().max().item()
            if difference > 1e-5:
                fail(f"{path}: PyTorch's output differs from TorchSharp's by {difference}")
            checked = ""
            if optimizer_state is not None:
                optimizer = torch.optim.Adam(model.parameters(), lr=0.5)
                optimizer.load_state_dict(optimizer_state)
                if optimizer.param_groups[0]["lr"] != ref["lr"]:
                    fail(f"{path}: lr is {optimizer.param_groups[0]['lr']}, the checkpoint {ref['lr']}")
                parameters = list(model.parameters())
                if len(parameters) != len(ref["optimizer"]):
                    fail(f"{path}: {len(parameters)} parameters, {len(ref['optimizer'])} optimizer states")
                for index, (parameter, expected_state) in enumerate(zip(parameters, ref["optimizer"])):
                    state = optimizer.state[parameter]
                    if state["step"].dtype != torch.float32 or state["step"].item() != expected_state["step"]:
                        fail(f"{path}: state {index} step is {state['step']}, the checkpoint {expected_state['step']}")
                    for key in ("exp_avg", "exp_avg_sq"):
                        if state[key].shape != parameter.shape or raw(state[key]) != ref_bytes(expected_state[key]):
                            fail(f"{path}: state {index} {key} differs from the checkpoint's")
                model(x).float().sum().backward()
                optimizer.step()  # the loaded state is usable, not only readable
                model.zero_grad()
                checked = f", Adam state of {len(parameters)} parameters"
            print(f"OK {kind} {path}: {len(ref['tensors'])} tensors bit for bit, output within {difference:.2e}{checked}")
        """;
}
